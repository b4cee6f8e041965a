#!/usr/bin/env python3
"""Reference outputs for SpiqaQuant's tests, from the reference quantizers evaluated in float32 PyTorch (CPU).

The functions below are the reference's `BertSelfAttention.quantize_attention_*` / `BertLayer.quantize_hstates_*`
(chickenjohn/spiqa-forked-transformers @ 8da62ec55, src/transformers/modeling_bert.py L241-443, L693-742),
transcribed with only the CUDA-only `.to(att.get_device())` calls removed so that they run on the CPU.

Writes Tests/SpiqaQuantTests/Fixtures/:
  vectors.json      §2.14 test vectors (b=3, all 7 element-wise methods), float32 outputs as bit patterns
  segments.json     for each element-wise method and bits 1,2,3,4,8: every input (float32 bit pattern) in [0,1)
                    where PyTorch's output changes, and the output from there on (grid of 64 ulps, each change
                    located exactly by evaluating its 64-ulp window)
  random.json       a random softmax tensor (2,4,20,20) with padding and one-hot rows: outputs of all 11 methods for
                    bits 2,3,4 as float32 bit patterns (hex), statistics of the data-dependent ones
  dirichlet.json    the reference's data-dependent example (§2.14): thresholds and values for b=2
  hidden.json       hidden-state quantizers on a random normal vector
  js.json           the analyzer's -qv Jensen-Shannon distance (scipy) per row: random tensor vs log-pruned b=3
Usage: python3 scripts/make_quant_fixtures.py [--out DIR] [--exhaustive]
  --exhaustive also evaluates every float32 in [0,1] in PyTorch (slow: minutes) and checks the segment tables.
"""
import argparse, json, math, os, sys
import numpy as np
import torch

torch.set_num_threads(1)

def linear_slinear(att, bits):
    base = 1.0 / (2**int(bits)-1)
    return torch.floor(att / base + 0.5) * base

def linear_slinear_midval(att, bits):
    base = 1.0 / (2**int(bits))
    cutpoints = [0.0] + [(i+1)*base for i in range(int(2.0**bits))]
    offset_val = (cutpoints[0] + cutpoints[1]) / 2.0
    res = torch.floor(att / base) * base + offset_val
    res[att < cutpoints[1]] = 0.0
    return res

def linear_slinear_clamped(att, bits):
    min_val = 1e-3
    base = (1.0 - min_val) / (2**int(bits)-1)
    res = torch.floor((att - min_val) / base + 0.5) * base + min_val
    actual_thres = base * 0.5 + min_val
    res[att <= actual_thres] = 0.0
    return res

def linear_slinear_clamped_midval(att, bits):
    min_val = 1e-3
    base = (1.0 - min_val) / (2.0**bits)
    cutpoints = [0.0] + [(i+1)*base for i in range(int(2.0**bits))]
    offset_val = (cutpoints[0] + cutpoints[1]) / 2
    res = torch.floor((att-min_val) / base) * base + offset_val + min_val
    res[att < cutpoints[1]+min_val] = 0.0
    return res

def linear_slog(att, bits):
    min_exp = math.log2(1e-3)
    step = min_exp / (2.0**bits-1)
    exp = torch.log2(att)
    clamped_exp = torch.floor(exp / step + 0.5) * step
    clamped_exp[exp < (min_exp - step)] = float("-Inf")
    return torch.pow(2.0, clamped_exp)

def linear_slog_midval(att, bits):
    min_val = 1e-10
    min_exp = math.log2(min_val)
    base = (0-min_exp) / (2.0**bits)
    cutpoints = [0.0] + [(i+1)*base for i in range(int(2.0**bits))]
    offset_val = (cutpoints[2]-cutpoints[1])/2.0
    res = torch.floor((torch.log2(att)-min_exp) / base) * base + offset_val + min_exp
    res[att < 2**(min_exp + cutpoints[1])] = float('-Inf')
    return 2**res

def linear_slog_clamped_midval(att, bits):
    min_val = 1e-3
    min_exp = math.log2(min_val)
    base = (0-min_exp) / (2.0**bits - 1)
    cutpoints = [0.0] + [(i+1)*base for i in range(int(2.0**bits-1))]
    offset_val = (cutpoints[0]+cutpoints[1])/2.0
    res = torch.floor((torch.log2(att)-min_exp) / base) * base + offset_val + min_exp
    res[att < min_val] = float('-Inf')
    res = 2**res
    res[res > 1.0] = 2**(base*int(2**bits-2) + offset_val + min_exp)
    return res

STATS = {}

def uniform_slinear_clamped_mean(att, bits):
    min_val = 1e-3
    att_std = att.to('cpu').numpy().flatten().astype('float64')
    att_std = np.sort(att_std[att_std>min_val])
    num_ranks = int(2.0**bits-1)
    uniform_threshs = [min_val,]
    uniform_steps = range(0, len(att_std), max(int(len(att_std)/num_ranks), 1))
    uniform_threshs += [ att_std[i] for i in uniform_steps[1:]]
    value_clamp_to = [(start+end)/2.0 for start, end in zip(uniform_threshs[:-1], uniform_threshs[1:])]
    value_clamp_to = np.array(value_clamp_to)
    ranking_map = uniform_threshs[1:]
    STATS['last'] = (list(map(float, ranking_map)), list(map(float, value_clamp_to)))
    zero_masks, compare_done_mask = torch.ones(att.shape), torch.ones(att.shape)
    zero_masks[att<min_val] = 0.0
    quant_att = torch.zeros(att.shape)
    for thres, val in zip(ranking_map, value_clamp_to):
        quant_att += (att < thres) * val * compare_done_mask
        compare_done_mask = att >= thres
    quant_att += (att < 1.0) * value_clamp_to[-1] * compare_done_mask
    quant_att = quant_att * zero_masks
    return quant_att

def uniform_slog_clamped_mean(att, bits):
    min_val = 1e-3
    att_std = att.to('cpu').numpy().flatten().astype('float64')
    att_std = np.sort(att_std[att_std>min_val])
    num_ranks = int(2.0**bits)
    log_threshs = [min_val,]
    log_steps = np.array([len(att_std)//np.power(2, i) for i in range(1, num_ranks)] + [len(att_std)//np.power(2, num_ranks), ])
    log_steps = np.cumsum(log_steps)[:-1]
    log_threshs += [ att_std[i] for i in log_steps]
    log_steps = np.insert(log_steps, 0, 0.0, axis=0)
    value_clamp_to = []
    for start, end in zip(log_steps[:-1], log_steps[1:]):
        value_clamp_to.append(np.mean(att_std[start:end]) if start < end else value_clamp_to[-1])
    value_clamp_to = np.array(value_clamp_to)
    ranking_map = log_threshs[1:]
    STATS['last'] = (list(map(float, ranking_map)), list(map(float, value_clamp_to)))
    zero_masks, compare_done_mask = torch.ones(att.shape), torch.ones(att.shape)
    zero_masks[att<min_val] = 0.0
    quant_att = torch.zeros(att.shape)
    for thres, val in zip(ranking_map, value_clamp_to):
        quant_att += (att < thres) * val * compare_done_mask
        compare_done_mask = att >= thres
    quant_att += (att < 1.0) * value_clamp_to[-1] * compare_done_mask
    quant_att = quant_att * zero_masks
    return quant_att

def uniform_slog_mean(att, bits):
    att_std = att.to('cpu').numpy().flatten().astype('float64')
    att_std = np.sort(att_std)
    num_ranks = int(2.0**bits)
    log_threshs = [0.0,]
    log_steps = np.array([len(att_std)//np.power(2, i) for i in range(1, num_ranks+1)] + [len(att_std)//np.power(2, num_ranks), ])
    log_steps = np.cumsum(log_steps)[:-1]
    log_threshs += [ att_std[i] for i in log_steps]
    log_steps = np.insert(log_steps, 0, 0.0, axis=0)
    value_clamp_to = []
    for start, end in zip(log_steps[:-1], log_steps[1:]):
        value_clamp_to.append(np.mean(att_std[start:end]) if start < end else value_clamp_to[-1])
    value_clamp_to = np.array(value_clamp_to)
    ranking_map = log_threshs[1:]
    STATS['last'] = (list(map(float, ranking_map)), list(map(float, value_clamp_to)))
    compare_done_mask = torch.ones(att.shape)
    quant_att = torch.zeros(att.shape)
    for thres, val in zip(ranking_map, value_clamp_to):
        quant_att += (att < thres) * val * compare_done_mask
        compare_done_mask = (att >= thres) & (att > 0.0)
    quant_att += (att < 1.0) * value_clamp_to[-1] * compare_done_mask
    return quant_att

def binarization(att, bits):
    thres = 1e-3
    res_att = att.clone()
    res_att[att < thres] = 0.0
    regu_val = 1.0 / torch.sum(res_att > 0.0).item()
    res_att[att >= thres] = regu_val
    STATS['last'] = ([thres], [regu_val])
    return res_att

def quantize_hstates_linear(inputs, bits):
    effective_range = (0, 25.0 + 15.0)
    quant_step = (effective_range[1]-effective_range[0]) / 2.0**bits
    temp_inputs = inputs + 15.0
    temp_inputs = temp_inputs / quant_step
    temp_inputs = torch.floor(temp_inputs + 0.5) * quant_step
    return temp_inputs - 15.0

def quantize_hstates_fixed(inputs, bits, int_bits=5.0):
    if bits-1 <= int_bits:
        raise ValueError("quantization error! for the fixed quantization, #bits must > 5")
    frac_bits = bits - 1 - int_bits
    min_frac_val = 2.0**(-frac_bits)
    signs = torch.ones(inputs.shape)
    signs[inputs < 0.0] = -1.0
    abs_inputs = torch.abs(inputs)
    clamped_inputs = torch.floor(abs_inputs)
    frac_inputs = abs_inputs - clamped_inputs
    frac_inputs = torch.floor((frac_inputs / min_frac_val) + 0.5) * min_frac_val
    clamped_inputs[clamped_inputs > (2**int_bits)] = 2**int_bits
    return (clamped_inputs + frac_inputs) * signs

def quantize_hstates_log(inputs, bits):
    effi_bits = bits - 1
    frac_ubound, frac_lbound = 4.0, -5.0
    quant_log_step = (frac_ubound-frac_lbound) / (2.0**effi_bits-1.0)
    signs = torch.ones(inputs.shape)
    signs[inputs < 0.0] = -1.0
    exp = torch.abs(inputs)
    exp[inputs == 0.0] = 10**-10
    exp = torch.floor(torch.log2(exp) / quant_log_step + 0.5) * quant_log_step
    clamped_exp = exp.clone()
    clamped_exp[exp <= frac_lbound] = float("-Inf")
    clamped_exp[exp > frac_ubound] = frac_ubound
    return torch.pow(2.0, clamped_exp) * signs

ELEMENTWISE = {
    "linear_slinear": linear_slinear, "linear_slinear_midval": linear_slinear_midval,
    "linear_slinear_clamped": linear_slinear_clamped, "linear_slinear_clamped_midval": linear_slinear_clamped_midval,
    "linear_slog": linear_slog, "linear_slog_midval": linear_slog_midval,
    "linear_slog_clamped_midval": linear_slog_clamped_midval,
}
DATA_DEPENDENT = {
    "uniform_slinear_clamped_mean": uniform_slinear_clamped_mean, "uniform_slog_clamped_mean": uniform_slog_clamped_mean,
    "uniform_slog_mean": uniform_slog_mean, "binarization": binarization,
}
ONE = 0x3F800000

def bits_of(t):
    return t.contiguous().view(torch.int32).numpy().astype(np.uint32).ravel()

def evaluate(f, u, bits):
    """f on the float32 inputs with bit patterns u (padded to a multiple of 64 so every element takes PyTorch's
    vectorised path)."""
    n = len(u)
    pad = (-n) % 64
    uu = np.concatenate([u.astype(np.uint32), np.zeros(pad, np.uint32)])
    x = torch.from_numpy(uu.view(np.float32).copy())
    return bits_of(f(x, bits))[:n]

def segments(f, bits, grid=64):
    """Every input in [0,1) where f's output changes: located on a grid, then exactly inside each window."""
    starts, values = [0], None
    chunk = 1 << 22
    prev_val = None
    changes = []
    u_all = np.arange(0, ONE, grid, dtype=np.uint64)
    for c in range(0, len(u_all), chunk):
        u = u_all[c:c+chunk].astype(np.uint32)
        out = evaluate(f, u, bits)
        if prev_val is None:
            values = [int(out[0])]
        else:
            out = np.concatenate([[prev_val], out]); u = np.concatenate([[u[0] - grid], u])
        idx = np.nonzero(out[1:] != out[:-1])[0]
        for i in idx:
            changes.append(int(u[i]))  # change happens in (u[i], u[i]+grid]
        prev_val = out[-1]
    for lo in changes:
        w = np.arange(lo, min(lo + grid, ONE - 1) + 1, dtype=np.uint32)
        out = evaluate(f, w, bits)
        for i in np.nonzero(out[1:] != out[:-1])[0]:
            starts.append(int(w[i + 1])); values.append(int(out[i + 1]))
    # the last grid point may be below ONE-1: check the tail window exhaustively
    tail = np.arange(u_all[-1], ONE, dtype=np.uint32)
    out = evaluate(f, tail, bits)
    for i in np.nonzero(out[1:] != out[:-1])[0]:
        if int(tail[i + 1]) not in starts:
            starts.append(int(tail[i + 1])); values.append(int(out[i + 1]))
    order = np.argsort(starts, kind="stable")
    return [starts[i] for i in order], [values[i] for i in order]

def exhaustive_check(f, bits, starts, values):
    st = np.array(starts, np.uint64); va = np.array(values, np.uint32)
    chunk = 1 << 24
    for c in range(0, ONE, chunk):
        u = np.arange(c, min(c + chunk, ONE), dtype=np.uint32)
        out = evaluate(f, u, bits)
        expect = va[np.searchsorted(st, u.astype(np.uint64), side="right") - 1]
        bad = np.nonzero(out != expect)[0]
        if len(bad):
            raise SystemExit(f"exhaustive: segment table wrong at {u[bad[0]]:#x}")

def random_softmax(rng):
    B, H, L = 2, 4, 20
    logits = torch.from_numpy(rng.normal(size=(B, H, L, L)).astype(np.float32)) * 3.0
    logits[0, 1, 3, 7] = 200.0          # one-hot rows: exact 1.0 in float32
    logits[1, 2, 5, 0] = 200.0
    p = torch.softmax(logits, dim=-1)
    p[1, :, 15:, :] = 0.0                # padded rows/cols of a 15-token item
    p[1, :, :, 15:] = 0.0
    return p.contiguous()

def hexs(a):
    return [f"{int(v):08x}" for v in a]

def hex64(a):
    """float64 values as 16-digit hex bit patterns (exact, independent of any JSON number parser)."""
    return [f"{int(np.float64(v).view(np.uint64)):016x}" for v in a]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "SpiqaQuantTests", "Fixtures"))
    ap.add_argument("--exhaustive", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    meta = {"torch": torch.__version__, "numpy": np.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability()}

    inputs = np.array([0, 5e-4, 1e-3, 0.003, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0], np.float32)
    vec = {"meta": meta, "bits": 3, "inputs": hexs(inputs.view(np.uint32)), "outputs": {}}
    for name, f in ELEMENTWISE.items():
        vec["outputs"][name] = hexs(evaluate(f, inputs.view(np.uint32), 3))
    json.dump(vec, open(os.path.join(args.out, "vectors.json"), "w"), indent=1)

    seg = {"meta": meta, "grid": 64, "methods": {}}
    for name, f in ELEMENTWISE.items():
        seg["methods"][name] = {}
        for b in (1, 2, 3, 4, 8):
            s, v = segments(f, b)
            if args.exhaustive:
                exhaustive_check(f, b, s, v)
            seg["methods"][name][str(b)] = {"starts": s, "values": v}
            print(f"{name} b={b}: {len(s)} segments", file=sys.stderr)
    json.dump(seg, open(os.path.join(args.out, "segments.json"), "w"))

    rng = np.random.default_rng(2021)
    p = random_softmax(rng)
    rnd = {"meta": meta, "shape": list(p.shape), "input": hexs(bits_of(p)), "outputs": {}, "stats": {}}
    for b in (2, 3, 4):
        for name, f in {**ELEMENTWISE, **DATA_DEPENDENT}.items():
            x = p.clone()
            pad = (-x.numel()) % 64
            assert pad == 0
            out = f(x, b)
            rnd["outputs"][f"{name}/{b}"] = hexs(bits_of(out))
            if name in DATA_DEPENDENT:
                rnd["stats"][f"{name}/{b}"] = {"thresholds": hex64(STATS['last'][0]), "values": hex64(STATS['last'][1])}
    json.dump(rnd, open(os.path.join(args.out, "random.json"), "w"))
    js_fixture(args.out, p, meta)

    d = np.random.default_rng(0).dirichlet(np.ones(16) * 0.3, size=4).round(6).astype(np.float32)
    d[0, 0] = 0
    t = torch.from_numpy(d)
    dj = {"meta": meta, "input": hexs(d.view(np.uint32).ravel()), "shape": [4, 16], "bits": 2, "methods": {}}
    for name in ("uniform_slinear_clamped_mean", "uniform_slog_clamped_mean", "uniform_slog_mean"):
        out = DATA_DEPENDENT[name](t.clone(), 2)
        dj["methods"][name] = {"thresholds": hex64(STATS['last'][0]), "values": hex64(STATS['last'][1]),
                               "output": hexs(bits_of(out))}
    json.dump(dj, open(os.path.join(args.out, "dirichlet.json"), "w"), indent=1)

    h = torch.from_numpy((rng.normal(size=256) * 6).astype(np.float32))
    h[0] = 0.0; h[1] = -0.0; h[2] = 40.0; h[3] = -33.3; h[4] = 1e-7
    hj = {"meta": meta, "input": hexs(bits_of(h)), "outputs": {}}
    for b in (7, 8, 12):
        hj["outputs"][f"fixed/{b}"] = hexs(bits_of(quantize_hstates_fixed(h.clone(), b)))
    for b in (2, 4, 8):
        hj["outputs"][f"linear/{b}"] = hexs(bits_of(quantize_hstates_linear(h.clone(), b)))
        hj["outputs"][f"log/{b}"] = hexs(bits_of(quantize_hstates_log(h.clone(), b)))
    json.dump(hj, open(os.path.join(args.out, "hidden.json"), "w"))

def js_fixture(out_dir, p, meta):
    """Per-row JS distance exactly as transformer_visualization.compute_js_diver_quant_methods does it."""
    from scipy.spatial.distance import jensenshannon
    q = linear_slog_clamped_midval(p.clone(), 3)
    bins = 10 ** np.linspace(-10, 0, 101)
    rows_p = p.numpy().reshape(-1, p.shape[-1])[:64]
    rows_q = q.numpy().reshape(-1, q.shape[-1])[:64]
    d = []
    for a, b in zip(rows_p, rows_q):
        ha, _ = np.histogram(a + 1e-10, bins=bins)
        hb, _ = np.histogram(b + 1e-10, bins=bins)
        d.append(float(jensenshannon(ha, hb)))
    json.dump({"meta": meta, "row_length": int(p.shape[-1]), "original": hexs(bits_of(torch.from_numpy(rows_p))),
               "quantized": hexs(bits_of(torch.from_numpy(rows_q))), "distance": d},
              open(os.path.join(out_dir, "js.json"), "w"))

if __name__ == "__main__":
    main()
