/* add: int8 elementwise addition with broadcasting (TFLM reference_integer_ops::Add semantics). */
#ifndef {{ kp|upper }}ADD_H
#define {{ kp|upper }}ADD_H

#include <stdint.h>

#define {{ kp|upper }}ADD_MAX_DIMS 6

typedef struct {
    int32_t left_shift;
    int32_t input1_offset;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;
    int32_t act_max;
    /* Shapes right-aligned to {{ kp|upper }}ADD_MAX_DIMS axes (leading 1s); each input axis is
     * the output's or 1 (broadcast). */
    int32_t in1_shape[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t in2_shape[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t out_shape[{{ kp|upper }}ADD_MAX_DIMS];
} {{ kp }}add_params;

/* output may alias an input of the output's shape. */
void {{ kp }}add(const {{ kp }}add_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
