// TFLM on a bare-metal Cortex-M under QEMU: runs the embedded model on the embedded inputs, one
// Invoke() per sample between edgenn's instruction-counting markers, and prints every output
// tensor's bytes through semihosting ("tflm-out SAMPLE OUTPUT HEX"). Exit status 0 on success
// (startup.c's Reset_Handler passes main's return value to the emulator).
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
void edgenn_marker_begin(void);  // markers.c: the plugin counts the instructions in between
void edgenn_marker_end(void);
void fw_print(const char* text);  // startup.c: semihosting SYS_WRITE0

// TFLM's logging (tensorflow/lite/micro/debug_log.h) through semihosting.
void DebugLog(const char* format, va_list args) {
  static char line[256];
  vsnprintf(line, sizeof line, format, args);
  fw_print(line);
}

// No heap: TFLM allocates from the arena only; newlib's stdio may ask (and copes with a refusal).
void* _sbrk(ptrdiff_t) { return reinterpret_cast<void*>(-1); }

int DebugVsnprintf(char* buffer, size_t buf_size, const char* format, va_list args) {
  return vsnprintf(buffer, buf_size, format, args);
}
}

namespace {

alignas(16) uint8_t g_arena[ARENA_BYTES];

// The resolver and the interpreter live in static storage, constructed with placement new: a
// function-local static would register its destructor with __cxa_atexit, which a bare-metal
// program without exit has no use for.
alignas(OpResolver) uint8_t g_resolver_mem[sizeof(OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_mem[sizeof(tflite::MicroInterpreter)];

enum Status { kOk = 0, kOpsFailed = 10, kAllocateFailed = 11, kInputSize = 12, kInvokeFailed = 13 };

void PrintLine(const char* text) { fw_print(text); }

// "tflm-out S K <hex>\n", written in pieces so that large tensors need no large buffer.
void PrintOutput(int sample, int k, const uint8_t* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  static char buf[2 * 128 + 1];
  char head[48];
  snprintf(head, sizeof head, "tflm-out %d %d ", sample, k);
  fw_print(head);
  for (size_t i = 0; i < n;) {
    size_t m = 0;
    for (; i < n && m < 128; ++i, ++m) {
      buf[2 * m] = kHex[data[i] >> 4];
      buf[2 * m + 1] = kHex[data[i] & 15];
    }
    buf[2 * m] = '\0';
    fw_print(buf);
  }
  fw_print("\n");
}

}  // namespace

int main(void) {
  const tflite::Model* model = tflite::GetModel(g_model);
  OpResolver& resolver = *new (g_resolver_mem) OpResolver();
  if (!AddOps(resolver)) {
    PrintLine("tflm: registering the model's operators failed\n");
    return kOpsFailed;
  }
  tflite::MicroInterpreter& interpreter =
      *new (g_interpreter_mem) tflite::MicroInterpreter(model, resolver, g_arena, sizeof g_arena);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    PrintLine("tflm: AllocateTensors failed (arena too small?)\n");
    return kAllocateFailed;
  }
  const uint8_t* in = g_inputs;
  for (int s = 0; s < g_num_samples; ++s) {
    if (g_reset_each_sample) {
      interpreter.Reset();
    }
    for (int k = 0; k < g_num_inputs; ++k) {
      TfLiteTensor* t = interpreter.input(k);
      if (t->bytes != g_input_bytes[k]) {
        PrintLine("tflm: an embedded input's size differs from the model's input tensor\n");
        return kInputSize;
      }
      memcpy(t->data.raw, in, t->bytes);
      in += t->bytes;
    }
    edgenn_marker_begin();
    TfLiteStatus status = interpreter.Invoke();
    edgenn_marker_end();
    if (status != kTfLiteOk) {
      PrintLine("tflm: Invoke failed\n");
      return kInvokeFailed;
    }
    for (size_t k = 0; k < interpreter.outputs_size(); ++k) {
      const TfLiteTensor* t = interpreter.output(k);
      PrintOutput(s, static_cast<int>(k), reinterpret_cast<const uint8_t*>(t->data.raw), t->bytes);
    }
  }
  char line[64];
  snprintf(line, sizeof line, "tflm-arena-used %u\n", static_cast<unsigned>(interpreter.arena_used_bytes()));
  PrintLine(line);
  return kOk;
}
