/* mean: int8 mean over any set of axes (TFLM reference_ops::QuantizedMeanOrSum semantics). */
#ifndef {{ kp|upper }}MEAN_H
#define {{ kp|upper }}MEAN_H

#include <stdint.h>

#define {{ kp|upper }}MEAN_MAX_RANK 8

typedef struct {
    int32_t rank;
    int32_t dims[{{ kp|upper }}MEAN_MAX_RANK]; /* input shape */
    uint32_t reduce_mask;                     /* bit i set: axis i is averaged */
    int32_t input_offset;                     /* -input zero point */
    int32_t output_offset;
    int32_t multiplier; /* input_scale / output_scale / count, folded as TFLM does at run time */
    int32_t shift;
} {{ kp }}mean_params;

/* Output elements are in input order with the reduced axes removed. */
void {{ kp }}mean(const {{ kp }}mean_params *prm, const int8_t *input, int8_t *output);

#endif
