/*
 * edgenn's instruction-counting plugin for QEMU's TCG (qemu-system-arm, qemu-aarch64, qemu-arm).
 *
 * Counts the guest instructions executed between calls to marker functions of the firmware or
 * runner (templates/test_app/markers.c.j2): edgenn_marker_begin() / edgenn_marker_end() around
 * one inference, and edgenn_marker_layer_begin() / edgenn_marker_layer_end() around each layer
 * (the model's profiling hooks; layers run in order, so the n-th pair is layer n).
 *
 * Arguments (addresses of the markers' first instructions, from the ELF's symbol table):
 *   begin=0x..., end=0x..., layer_begin=0x..., layer_end=0x... (optional), out=FILE
 * For every inference it writes one line to FILE: the instructions of the whole inference, then
 * those of each layer, separated by spaces. At exit: "total N" (all instructions executed).
 * (The plugin's own text output would only show with -d plugin, hence the file.)
 *
 * Counting: every translated block adds its number of instructions to a counter when it starts
 * executing (an inline add, cheap). A marker's callback runs at its instruction; at that point
 * the counter already holds the whole block, so the callback subtracts the instructions of the
 * block from the marker onwards. The count between two markers is thus exact: the instructions
 * executed after the first marker's instruction started, up to (not including) the second's.
 * QEMU runs guest code deterministically, so the counts are the same on every run.
 *
 * Built by emulation/profile.py with: gcc -shared -fPIC -O2 -I<dir of qemu-plugin.h> icount.c
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { M_BEGIN, M_END, M_LAYER_BEGIN, M_LAYER_END, M_COUNT };

static const char *const marker_names[M_COUNT] = {"begin", "end", "layer_begin", "layer_end"};
static uint64_t marker_addr[M_COUNT];
static int marker_set[M_COUNT];

static uint64_t counter;     /* instructions executed so far (inline adds per block) */
static int in_inference;
static uint64_t t_begin;     /* counter at the inference's begin marker */
static uint64_t t_layer;     /* counter at the current layer's begin marker */
static uint64_t *layers;     /* instructions per layer of the current inference */
static size_t n_layers, cap_layers;
static int in_layer;
static FILE *out;

/* A marker at instruction `index` of a block of `n`: the callback's userdata packs the marker
 * and how many of the block's instructions come at or after it (not yet executed). */
static void *pack(int marker, size_t remaining)
{
    return (void *)(uintptr_t)(((uint64_t)remaining << 4) | (uint64_t)marker);
}

static void on_marker(unsigned int vcpu_index, void *udata)
{
    uint64_t u = (uint64_t)(uintptr_t)udata;
    int marker = (int)(u & 0xF);
    uint64_t now = counter - (u >> 4);
    (void)vcpu_index;
    switch (marker) {
    case M_BEGIN:
        in_inference = 1;
        in_layer = 0;
        n_layers = 0;
        t_begin = now;
        break;
    case M_LAYER_BEGIN:
        if (in_inference) {
            in_layer = 1;
            t_layer = now;
        }
        break;
    case M_LAYER_END:
        if (in_inference && in_layer) {
            if (n_layers == cap_layers) {
                cap_layers = cap_layers ? 2 * cap_layers : 64;
                layers = realloc(layers, cap_layers * sizeof *layers);
                if (layers == NULL) {
                    fprintf(stderr, "edgenn icount plugin: out of memory\n");
                    abort();
                }
            }
            layers[n_layers++] = now - t_layer;
            in_layer = 0;
        }
        break;
    case M_END:
        if (in_inference) {
            size_t i;
            fprintf(out, "%" PRIu64, now - t_begin);
            for (i = 0; i < n_layers; i++) {
                fprintf(out, " %" PRIu64, layers[i]);
            }
            fputc('\n', out);
            fflush(out);
            in_inference = 0;
        }
        break;
    default:
        break;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    int m;
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counter, n);
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        for (m = 0; m < M_COUNT; m++) {
            if (marker_set[m] && addr == marker_addr[m]) {
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, pack(m, n - i));
            }
        }
    }
}

static void plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (out != NULL) {
        fprintf(out, "total %" PRIu64 "\n", counter);
        fclose(out);
        out = NULL;
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    const char *path = NULL;
    int i;
    int m;
    (void)info;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        int known = 0;
        if (eq == NULL) {
            fprintf(stderr, "edgenn icount plugin: bad argument '%s' (expected key=value)\n", arg);
            return -1;
        }
        if (strncmp(arg, "out=", 4) == 0) {
            path = eq + 1;
            continue;
        }
        for (m = 0; m < M_COUNT; m++) {
            size_t len = strlen(marker_names[m]);
            if ((size_t)(eq - arg) == len && strncmp(arg, marker_names[m], len) == 0) {
                marker_addr[m] = strtoull(eq + 1, NULL, 0) & ~(uint64_t)1; /* drop the Thumb bit */
                marker_set[m] = 1;
                known = 1;
            }
        }
        if (!known) {
            fprintf(stderr, "edgenn icount plugin: unknown argument '%s'\n", arg);
            return -1;
        }
    }
    if (path == NULL || !marker_set[M_BEGIN] || !marker_set[M_END]) {
        fprintf(stderr, "edgenn icount plugin: needs out=FILE, begin=ADDR and end=ADDR\n");
        return -1;
    }
    out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "edgenn icount plugin: cannot open %s\n", path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
