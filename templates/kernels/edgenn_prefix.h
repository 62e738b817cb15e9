/* The symbol prefix of the kernels' external names.
 *
 * The kernels are plain C99: every external name (functions, parameter typedefs) starts with
 * enn_, and every kernel header includes this file first. A generated project replaces it with
 * one `#define enn_<name> <model>_<name>` line per such name of the kernels copied into it
 * (codegen/generate.py, write_kernels), so that each model's kernels carry the model's prefix and
 * several models link into one program. The rule: every `enn_` name that a kernel header declares
 * at file scope and that is not static, that is each typedef name and each function prototype
 * starting in column 0 with a return type (static inline helpers stay private to each translation
 * unit and keep their names). Macros (ENN_...) are not renamed: they do not reach the linker.
 *
 * This default renames nothing: the kernels compile standalone with their enn_ names. */
#ifndef EDGENN_PREFIX_H
#define EDGENN_PREFIX_H

#endif /* EDGENN_PREFIX_H */
