# Context controls side by side (issue #10, item 1c): for three encoders of the same architecture -- the previous
# shipped teacher (Point-JEPA, git commit 8bb2be3), random weights, and the shipped teacher (MAE + InfoNCE) -- how well
# are their distillation targets reconstructed without SuperTokens (s = 0: a per-token MLP of T_j and pos(c_j); global
# vector: plus the shape's mean token) and with them (s = 16 students, with and without the position in the CAU
# residual)? Every model is trained with the same loss, data, schedule and seed (a shortened distillation: EPOCHS epochs
# over 2 views of 80 shapes per category, vs 40 in nbs/distill.ipynb). Resumable (checkpoints in runs/context_controls).
# usage: python scripts/context_controls.py [EPOCHS]  ->  figures/context_controls.json, figures/context_controls.png
import os, sys, json, time, platform, datetime, subprocess, tempfile
sys.path.insert(0, os.getcwd())
import numpy as np, torch, matplotlib
matplotlib.use('Agg'); import matplotlib.pyplot as plt
from dataclasses import asdict
import foundry_nb
from foundry_nb.data import SyntheticShapes
from foundry_nb.teacher import PointEncoder, load_teacher
from foundry_nb.student import FoundryStudent, StudentConfig, ContextControl, distill, reconstruction, supertoken_health
from foundry_nb.cache import cache_targets
from foundry_nb.training import TrainConfig, seed_everything
from foundry_nb.probe import token_structure

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
P = dict(n_per_class=80, n_test_per_class=20, views=2, n_points=1024, epochs=EPOCHS, batch_size=64, lr=1e-3, weight_decay=0.05, beta=2.0, seed=0, s=16)
OLD = '8bb2be3'   # the commit that shipped the Point-JEPA teacher
torch.set_num_threads(int(os.environ.get('THREADS', 1)))

def previous_teacher():
    f = tempfile.NamedTemporaryFile(suffix='.pt', delete=False)
    f.write(subprocess.run(['git', 'show', f'{OLD}:foundry_nb/assets/teacher_tiny.pt'], capture_output=True, check=True).stdout); f.close()
    return load_teacher(f.name)

def encoders():
    yield 'mae+infonce (shipped)', load_teacher()
    yield 'jepa (previous teacher)', previous_teacher()
    torch.manual_seed(P['seed']); yield 'random weights', PointEncoder('tiny').eval()

def models(enc):
    d = asdict(enc.cfg)
    return {'s0 control': lambda: ContextControl(enc, 's0'), 'global-vector control': lambda: ContextControl(enc, 'global'),
            's16, CAU residual T': lambda: FoundryStudent(StudentConfig(d, s=P['s'], cau_pos=False), enc),
            's16, CAU residual T+pos': lambda: FoundryStudent(StudentConfig(d, s=P['s']), enc)}

def run():
    train = SyntheticShapes('train', P['n_per_class'], 2048, seed=P['seed']); test = SyntheticShapes('test', P['n_test_per_class'], 2048, seed=P['seed'])
    out = dict(foundry_nb=foundry_nb.__version__, date=datetime.date.today().isoformat(), machine=platform.processor() or platform.machine(),
               threads=torch.get_num_threads(), params=P, note=f'previous teacher: foundry_nb/assets/teacher_tiny.pt at git {OLD}', rows={})
    for ename, enc in encoders():
        enc.tokenizer.start = 0; key = ename.split()[0]
        tr_c = cache_targets(enc, train, P['n_points'], P['views'], P['seed']); te_c = cache_targets(enc, test, P['n_points'], 1, P['seed'])
        row = dict(token_structure=token_structure(enc, train, P['n_points'], seed=P['seed']), models={})
        for mname, make in models(enc).items():
            seed_everything(P['seed']); m = make(); t0 = time.time()
            cfg = TrainConfig(epochs=P['epochs'], batch_size=P['batch_size'], lr=P['lr'], weight_decay=P['weight_decay'], warmup_epochs=min(2, P['epochs'] - 1), seed=P['seed'], device='cpu', progress=False)
            tr = distill(m, tr_c, cfg, ckpt_path=f"runs/context_controls/{key}/{mname.replace(' ', '_').replace(',', '')}.pt", beta=P['beta'])
            r = dict(reconstruction_test=reconstruction(m, te_c, beta=P['beta']), train_minutes=sum(h['seconds'] for h in tr.history) / 60)
            if isinstance(m, FoundryStudent): r['supertoken_health'] = supertoken_health(m, te_c)
            row['models'][mname] = r; print(f"{ename:26s} {mname:24s} Smooth L1 {r['reconstruction_test']['smooth_l1']:.5f}  cos {r['reconstruction_test']['cosine']:.4f}  ({time.time() - t0:.0f} s)", flush=True)
        ref = row['models']['s16, CAU residual T+pos']['reconstruction_test']['smooth_l1']
        row['ratios_to_s16'] = {k: v['reconstruction_test']['smooth_l1'] / ref for k, v in row['models'].items()}
        out['rows'][ename] = row
    return out

def plot(out, path):
    names = list(out['rows']); ms = list(next(iter(out['rows'].values()))['models'])
    fig, ax = plt.subplots(figsize=(8, 3.4)); w = 0.8 / len(ms)
    for j, m in enumerate(ms):
        ax.bar(np.arange(len(names)) + (j - (len(ms) - 1) / 2) * w, [out['rows'][n]['models'][m]['reconstruction_test']['smooth_l1'] for n in names], w, label=m)
    ax.set_xticks(range(len(names)), [f"{n}\nconst. share {out['rows'][n]['token_structure']['constant_share']:.2f}" for n in names])
    ax.set_yscale('log'); ax.set_ylabel('test Smooth L1 (log)'); ax.legend(fontsize=7); ax.set_title(f"Reconstructing each encoder's targets ({out['params']['epochs']} epochs each, seed {out['params']['seed']})", fontsize=9)
    fig.tight_layout(); fig.savefig(path, dpi=90)

if __name__ == '__main__':
    res = run()
    tmp = 'figures/context_controls.json.tmp'; json.dump(res, open(tmp, 'w'), indent=1); os.replace(tmp, 'figures/context_controls.json')
    plot(res, 'figures/context_controls.png'); print('written figures/context_controls.json, figures/context_controls.png')
