# DSO assignment and gate regulariser variants side by side (issue #11): each variant distils an s = 16 student of the
# shipped teacher on the ablation's synthetic set (30 training / 10 test shapes per category, 1024 points, one view),
# 12 epochs, batch 32, lr 2e-3, seed 0 (the ablation's quick schedule), and is measured on the VALIDATION shapes (SPLIT=val,
# the default: the variants are choices; the committed figures/assignment_variants.json predates this guard and used test, issue #26):
# SuperTokens used per shape, the largest one's share, train/eval agreement, reconstruction Smooth L1; for the gate,
# the distribution of pi and the tokens threshold mode merges per shape.
# usage: python scripts/assignment_variants.py  ->  figures/assignment_variants.json (read by nbs/04_dso.ipynb and nbs/06_gate.ipynb)
import os, sys, time
sys.path.insert(0, os.getcwd())
import numpy as np, torch, torch.nn.functional as F
from dataclasses import asdict
from foundry_nb.teacher import load_teacher
from foundry_nb.data import SyntheticShapes
from foundry_nb.student import FoundryStudent, StudentConfig, supertoken_health, reconstruction
from foundry_nb.cache import cache_targets, TargetCache
from foundry_nb.dso import anneal_tau
from foundry_nb.training import Trainer, TrainConfig, seed_everything
from foundry_nb.experiments import run_info
from foundry_nb.teacher import save_json
torch.set_num_threads(int(os.environ.get('THREADS', 2)))
PARAMS = dict(n_per_class=30, n_test_per_class=10, n_points=1024, epochs=12, batch_size=32, lr=2e-3, beta=2.0, s=16, seed=0, split=os.environ.get('SPLIT', 'val'))
if PARAMS['split'] not in ('val', 'test'): raise SystemExit(f"SPLIT must be 'val' (choices) or 'test' (a final run), got {PARAMS['split']!r}")

teacher = load_teacher(None).eval(); teacher.tokenizer.start = 0
tr = cache_targets(teacher, SyntheticShapes('train', PARAMS['n_per_class'], 2048, seed=0), PARAMS['n_points'], 1, 0, cache_dir='runs/assignment_variants/cache')
te = cache_targets(teacher, SyntheticShapes(PARAMS['split'], PARAMS['n_test_per_class'], 2048, seed=0), PARAMS['n_points'], 1, 0, cache_dir='runs/assignment_variants/cache')

def train(scfg, tau_end, balance_loss=0.):
    "The kit's distillation (Smooth L1, tau annealed, SuperTokens from k-means of a batch), with an optional load-balancing loss."
    seed_everything(PARAMS['seed']); st = FoundryStudent(scfg, teacher)
    def loss_fn(m, b):
        o = m.forward_tokens(b['tokens'], b['centers']); rec = F.smooth_l1_loss(o.y, b['targets'], beta=PARAMS['beta']); loss = rec
        if o.pi is not None: loss = loss + m.gate.loss(o.pi)
        if balance_loss:                                       # s * sum_k u_k^2 - 1, u = mean soft assignment of a shape: 0 when balanced
            u = m.compressor.logits(b['tokens']).softmax(-1).mean(1); loss = loss + balance_loss * (PARAMS['s'] * (u ** 2).sum(-1).mean() - 1)
        return loss, dict(rec=rec.item())
    cfg = TrainConfig(epochs=PARAMS['epochs'], batch_size=PARAMS['batch_size'], lr=PARAMS['lr'], warmup_epochs=1, seed=PARAMS['seed'], device='cpu', progress=False)
    t = Trainer(st, loss_fn, TargetCache(tr), cfg, None, after_step=lambda m, s_, n: anneal_tau(m, s_, n, 1.0, tau_end))
    st.compressor.init_supertokens(torch.from_numpy(tr['tokens'][:256]).float(), seed=PARAMS['seed'])
    t0 = time.time(); t.fit(); return st.eval(), time.time() - t0

tc, out = asdict(teacher.cfg), dict(dso={}, gate={})
dso = {'cosine (previous default)': (dict(center=False, balance='none'), 0.1, 0.),
       '+ centred keys': (dict(center=True, balance='none'), 0.1, 0.),
       '+ centred keys + Sinkhorn balance': (dict(center=True, balance='sinkhorn'), 0.1, 0.),
       '+ tau annealed to 0.01 (the default now)': (dict(center=True, balance='sinkhorn'), 0.01, 0.),
       'centred keys + load-balancing loss (0.1), no Sinkhorn': (dict(center=True, balance='none'), 0.1, 0.1),
       "the paper's form (dot logits, raw keys, plain argmax)": (dict(logits='dot', center=False, balance='none'), 0.1, 0.)}
for name, (kw, tau_end, bal) in dso.items():
    st, sec = train(StudentConfig(tc, s=PARAMS['s'], compressor_kwargs=kw), tau_end, bal)
    out['dso'][name] = dict(compressor_kwargs=kw, tau_end=tau_end, balance_loss=bal, health=supertoken_health(st, te), **reconstruction(st, te, beta=PARAMS['beta']), seconds=sec)
    print(name, out['dso'][name], flush=True)
gate = {"the paper's -lambda*mean(pi) (lambda 0.01)": dict(gate_lam=0.01, gate_target=None), 'budget rho = 0.5 only (beta 0)': dict(gate_lam=1.0, gate_target=0.5, gate_sharpen=0.),
        'budget rho = 0.5 + sharpening beta 0.1 (the default now)': dict(gate_lam=1.0, gate_target=0.5, gate_sharpen=0.1)}
for name, kw in gate.items():
    st, sec = train(StudentConfig(tc, s=PARAMS['s'], gate=True, **kw), 0.01)
    with torch.no_grad(): pi = st.gate(torch.from_numpy(te['tokens']).float())
    merged = (pi > st.gate.threshold).sum(1).numpy()
    out['gate'][name] = dict(config=kw, pi_mean=float(pi.mean()), pi_quantiles={q: float(v) for q, v in zip((5, 25, 50, 75, 95), np.percentile(pi.numpy(), [5, 25, 50, 75, 95]))},
                             merged_per_shape=dict(min=int(merged.min()), mean=float(merged.mean()), max=int(merged.max())),
                             smooth_l1={str(r): reconstruction(st, te, r=r, beta=PARAMS['beta'])['smooth_l1'] for r in (0, 32, 64, 'threshold')}, seconds=sec)
    print(name, out['gate'][name], flush=True)
save_json(dict(run_info(PARAMS, PARAMS['seed'], teacher=teacher), **out), 'figures/assignment_variants.json')
