# Teacher recipe search (issue #10), run on the lent GPU: each config pretrains the tiny encoder for a fixed number of
# steps (the CPU budget's), then probes it against random weights. Usage: python search.py NAME OUTDIR
# It keeps its own copy of the objective exactly as it ran (Hybrid below); the kit's implementation of the same objective is foundry_nb.mae.MAE(contrast=...).
# A search chooses, so it scores the VALIDATION split (SPLIT=val, the default). The committed figures/teacher_search.json was
# made before this guard, on the test split (issue #26): re-run it on val before a new choice rests on it.
import os, sys, json, time, math
sys.path.insert(0, os.getcwd())
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
SPLIT = os.environ.get('SPLIT', 'val')
if SPLIT not in ('val', 'test'): raise SystemExit(f"SPLIT must be 'val' (choices) or 'test' (a final run), got {SPLIT!r}")
from foundry_nb.data import SyntheticShapes, generate_shapes, write_fewshot
from foundry_nb.teacher import PointEncoder, save_encoder
from foundry_nb.jepa import jepa_augment
from foundry_nb.mae import MAE, random_mask, take, chamfer_l2
from foundry_nb.teacher import pool_max_mean
from foundry_nb.training import TrainConfig, Trainer, seed_everything
from foundry_nb.probe import embed, knn_probe, calibrated_probe, token_structure, fewshot_probe

def yrot(B, g, device):
    a = torch.rand(B, generator=g) * 2 * math.pi; c, s = a.cos(), a.sin(); z, o = torch.zeros(B), torch.ones(B)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], 1).to(device)

class Hybrid(MAE):
    "MAE on two views + InfoNCE between the pooled visible tokens of the two views."
    def __init__(self, cfg='tiny', mask_ratio=.6, dec_depth=2, w_mae=1., w_nce=1., temp=.1, **kw):
        super().__init__(cfg, mask_ratio, dec_depth, **kw); d = self.encoder.cfg.dim
        self.w_mae, self.w_nce, self.temp = w_mae, w_nce, temp
        self.proj = nn.Sequential(nn.Linear(2 * d, 512), nn.GELU(), nn.Linear(512, 128))
    def view(self, points):
        nb, C, _ = self.encoder.tokenizer.group(points)
        T = self.encoder.tokenizer.embedding(nb)
        if self.encoder.tokenizer_to_encoder is not None: T = self.encoder.tokenizer_to_encoder(T)
        vis, msk = random_mask(T.shape[0], T.shape[1], self.mask_ratio, None, T.device)
        z, _ = self.encoder.encoder(take(T, vis), self.encoder.positional_encoding(take(C, vis)))
        l = torch.zeros((), device=points.device)
        if self.w_mae:
            q = self.mask_token.expand(msk.shape[0], msk.shape[1], -1)
            y, _ = self.decoder(torch.cat([z, q], 1), self.decoder_pos(torch.cat([take(C, vis), take(C, msk)], 1)))
            pred = self.head(y[:, z.shape[1]:]).view(-1, self.group_size, 3)
            l = chamfer_l2(pred, take(nb, msk).reshape(-1, nb.shape[2], 3))
        return l, pool_max_mean(z)
    def loss(self, points, generator=None):
        B = points.shape[0]
        p2 = points @ yrot(B, None, points.device) * (0.8 + 0.4 * torch.rand(B, 1, 1, device=points.device))
        l1, g1 = self.view(points); l2, g2 = self.view(p2)
        h = F.normalize(self.proj(torch.cat([g1, g2])), dim=-1); s = h @ h.T / self.temp
        s = s.masked_fill(torch.eye(2 * B, dtype=torch.bool, device=s.device), -1e9)
        tgt = torch.cat([torch.arange(B, 2 * B), torch.arange(B)]).to(s.device)
        nce = F.cross_entropy(s, tgt)
        return self.w_mae * (l1 + l2) / 2 + self.w_nce * nce, dict(nce=float(nce), mae=float((l1 + l2) / 2))

CONFIGS = dict(
    mae=dict(w_nce=0., n_per_class=80),
    hyb=dict(n_per_class=80),
    nce=dict(w_mae=0., n_per_class=80),
    hyb300=dict(n_per_class=300),
    hyb_m75=dict(n_per_class=300, mask_ratio=.75),
    hyb_w01=dict(n_per_class=300, w_nce=.1),
    hyb_big=dict(n_per_class=300, cfg_over=dict(dim=256, depth=6, heads=8)),
)

def main(name, out, steps=int(os.environ.get('STEPS', 1500))):
    c = dict(CONFIGS[name]); n = c.pop('n_per_class'); over = c.pop('cfg_over', {})
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    seed_everything(0)
    train = SyntheticShapes('train', n, 2048, seed=0, transform=jepa_augment(1024))
    model = Hybrid('tiny', **c, **over)
    bpe = len(train) // 32; epochs = max(1, round(steps / bpe))
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=1e-3, weight_decay=.05, warmup_epochs=max(1, epochs // 10), seed=0, device=dev, progress=False)
    t0 = time.time(); tr = Trainer(model, lambda m, b: m.loss(b['points']), train, cfg, f'{out}/{name}_train.pt')
    budget = float(os.environ.get('BUDGET', 240))
    while tr.epoch < epochs and time.time() - t0 < budget:
        tr.fit(tr.step + 20); print(name, 'step', tr.step, f'{time.time() - t0:.0f}s', f"loss {tr.epoch_logs[-1]['loss']:.4f}" if tr.epoch_logs else '', flush=True)
    tmin = (time.time() - t0) / 60
    enc = model.encoder.eval(); torch.manual_seed(0); rnd = PointEncoder('tiny', **over).to(dev).eval()
    ptr = SyntheticShapes('train', 80, 2048, seed=0); te = SyntheticShapes(SPLIT, 50, 2048, seed=0)
    res = {}
    from sklearn.svm import SVC; from sklearn.preprocessing import StandardScaler
    for k, e in (('pre', enc), ('rnd', rnd)):
        Xtr, ytr = embed(e, ptr, device=dev); Xte, yte = embed(e, te, device=dev)
        r = dict(cal=calibrated_probe(Xtr, ytr, Xte, yte)['accuracy'], knn1=knn_probe(Xtr, ytr, Xte, yte))
        for way in (5, 10):
            accs = []
            for f in range(10):
                g = np.random.default_rng((f, way)); cl = g.choice(18, way, replace=False)
                si = np.concatenate([g.choice(np.flatnonzero(ytr == c), 10, replace=False) for c in cl]); qi = np.concatenate([g.choice(np.flatnonzero(yte == c), 20, replace=False) for c in cl])
                sc = StandardScaler().fit(Xtr[si]); accs.append(100 * (SVC(kernel='linear', C=1.).fit(sc.transform(Xtr[si]), ytr[si]).predict(sc.transform(Xte[qi])) == yte[qi]).mean())
            r[f'fs{way}'] = float(np.mean(accs))
        r['ts'] = token_structure(e.cpu(), ptr, n_shapes=128); res[k] = r; print(name, k, r, flush=True)
    res.update(name=name, cfg=CONFIGS[name], steps=tr.step, epochs=epochs, train_min=tmin, loss=[h['loss'] for h in tr.history])
    json.dump(res, open(f'{out}/{name}.json', 'w'), indent=1, default=float)
    save_encoder(enc, f'{out}/{name}_enc.pt'); print(name, json.dumps({k: res[k] for k in ('pre', 'rnd', 'train_min')}, default=float), flush=True)

if __name__ == '__main__': main(sys.argv[1], sys.argv[2])
