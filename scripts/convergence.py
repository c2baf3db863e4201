"""Is the main job's schedule converged? (issue #26; `make convergence`)

Measured on the VALIDATION split of the synthetic benchmark, never on test, with the main job's own defaults (read from
the parameters cell of nbs/ablations.ipynb, so the check always concerns the schedule the main job runs):
- distillation: one seed of each compressor (and the gated student) at the largest s, trained for the main job's
  `distill_epochs` and for 4x as long on the same data; the main schedule passes when its validation reconstruction
  Smooth L1 is within 10 % of the long one's (or lower);
- fine-tuning: the teacher, `finetune_epochs` (`finetune_frozen_epochs` frozen) against 3x both; passes within 1 point.
Writes figures/convergence_<benchmark>.json; the ablation notebook folds it into its JSON and the report flags any row
that fails. Resumable: every training run checkpoints in runs/convergence_<benchmark>/.
Usage: python scripts/convergence.py [benchmark]   (hard by default: the main job's benchmark)
"""
import os, sys, json, time
from dataclasses import asdict
from pathlib import Path
sys.path.insert(0, os.getcwd())
import torch
from foundry_nb.data import SyntheticShapes, BENCHMARKS
from foundry_nb.teacher import load_teacher, fingerprint
from foundry_nb.cache import cache_targets
from foundry_nb.student import StudentConfig, reconstruction
from foundry_nb.downstream import EvalConfig, finetune_eval
from foundry_nb.experiments import distill_student, run_info, save_json
import foundry_nb.baselines   # registers the baseline compressors

DISTILL_FACTOR, DISTILL_TOLERANCE = 4, 0.10     # written before the runs (issue #26), never tuned
FINETUNE_FACTOR, FINETUNE_TOLERANCE = 3, 1.0

def main_job_defaults(nb='nbs/ablations.ipynb')->dict:
    "The parameters cell of the main job, evaluated: its own defaults."
    cell = next(c for c in json.loads(Path(nb).read_text())['cells'] if 'parameters' in c.get('metadata', {}).get('tags', []))
    ns = {}
    exec(''.join(cell['source']), {}, ns)
    return ns

def main(benchmark='hard'):
    if benchmark not in BENCHMARKS: raise SystemExit(f"benchmark must be one of {list(BENCHMARKS)}, got {benchmark!r}")
    p = main_job_defaults()
    torch.set_num_threads(int(os.environ.get('THREADS', 2)))
    teacher = load_teacher(f'foundry_nb/assets/teacher_{benchmark}.pt' if benchmark != 'easy' else None).eval()
    teacher.tokenizer.start = 0
    run_dir = Path(f'runs/convergence_{benchmark}')
    seed, S = p['seeds'][0], max(p['s_list'])
    train = SyntheticShapes('train', p['n_per_class'], 2048, seed=seed, benchmark=benchmark)
    val = SyntheticShapes('val', p['n_test_per_class'], 2048, seed=seed, benchmark=benchmark)
    tr = cache_targets(teacher, train, p['n_points'], 1, seed, cache_dir=run_dir / 'cache')
    va = cache_targets(teacher, val, p['n_points'], 1, seed, cache_dir=run_dir / 'cache')
    tc, E = asdict(teacher.cfg), p['distill_epochs']
    configs = {f'{c}_s{S}': StudentConfig(tc, compressor=c, s=S) for c in p['compressors']}
    if p.get('gate_s'): configs[f"gate_s{p['gate_s']}"] = StudentConfig(tc, s=p['gate_s'], gate=True)
    distill_rows = {}
    for name, scfg in configs.items():
        row = {}
        for label, epochs in (('main', E), ('long', DISTILL_FACTOR * E)):
            t0 = time.time()
            st, hist = distill_student(teacher, tr, name, scfg, run_dir, epochs, p['batch_size'], p['lr'], p['beta'], seed)
            row[label] = dict(epochs=epochs, steps=hist[-1]['step'], val_smooth_l1=reconstruction(st, va, beta=p['beta'])['smooth_l1'], seconds=sum(h['seconds'] for h in hist))
            print(f"{name:>12} {label:>4}: {epochs} epochs, {row[label]['steps']} steps, val Smooth L1 {row[label]['val_smooth_l1']:.5f} ({time.time() - t0:.0f} s)", flush=True)
        row['ratio'] = row['main']['val_smooth_l1'] / row['long']['val_smooth_l1']
        row['converged'] = bool(row['ratio'] <= 1 + DISTILL_TOLERANCE)
        distill_rows[name] = row
    ecfg = EvalConfig(n_points=p['n_points'], C=p['probe_C'], lr=p['finetune_lr'], batch_size=32, train_views=1, votes=p['finetune_votes'], seed=seed, progress=False)
    ft = {}
    for label, k in (('main', 1), ('long', FINETUNE_FACTOR)):
        cfg = EvalConfig(**{**asdict(ecfg), 'epochs': k * p['finetune_epochs'], 'frozen_epochs': k * p['finetune_frozen_epochs']})
        ft[label] = dict(epochs=cfg.epochs, frozen_epochs=cfg.frozen_epochs, val_accuracy=finetune_eval(teacher, tr, va, cfg)[0]['accuracy'])
        print(f"teacher fine-tune {label}: {cfg.epochs} epochs ({cfg.frozen_epochs} frozen), val {ft[label]['val_accuracy']:.1f} %", flush=True)
    ft['gap'] = ft['long']['val_accuracy'] - ft['main']['val_accuracy']
    ft['converged'] = bool(ft['gap'] <= FINETUNE_TOLERANCE)
    keys = ('n_per_class', 'n_test_per_class', 'n_points', 'distill_epochs', 'batch_size', 'lr', 'beta', 'finetune_epochs', 'finetune_frozen_epochs', 'finetune_lr', 'finetune_votes')
    params = dict({k: p[k] for k in keys}, benchmark=benchmark, split='val', s=S, compressors=p['compressors'], gate_s=p.get('gate_s'),
                  distill_factor=DISTILL_FACTOR, distill_tolerance=DISTILL_TOLERANCE, finetune_factor=FINETUNE_FACTOR, finetune_tolerance=FINETUNE_TOLERANCE)
    out = dict(run_info(params, seed, teacher=teacher), distill=distill_rows, finetune_teacher=ft)
    save_json(out, f'figures/convergence_{benchmark}.json')
    print('distillation converged:', {k: r['converged'] for k, r in distill_rows.items()}, '| fine-tuning converged:', ft['converged'])

if __name__ == '__main__':
    main(*sys.argv[1:])
