"""A small paper-path fixture in the official on-disk layouts: ShapeNet55, ShapeNetPart, the ModelNetFewshot pickles
and a ViT-S checkpoint in the released Point-JEPA Lightning layout. Shapes come from the embedded generator; where
`../shared/data` is present, ShapeNetPart also gets its real part-labelled shapes (16 categories + 16 caps)."""
import json, pickle, shutil
from pathlib import Path
import numpy as np, torch
from foundry_nb.shapes import sample_shape
from foundry_nb.loaders import SHAPENETPART_PARTS
from foundry_nb.teacher import official_state_dict

SYNSETS = {'airplane': '02691156', 'chair': '03001627', 'table': '04379243', 'lamp': '03636649', 'car': '02958343'}   # ShapeNet ids
SPLIT = {'train': 0, 'val': 1, 'test': 2}
SNP = {'airplane': ('Airplane', '02691156'), 'chair': ('Chair', '03001627'), 'table': ('Table', '04379243')}          # ShapeNetPart categories

def _cloud(cls, n, seed):
    s = sample_shape(cls, n, seed=seed); return s['points'].astype(np.float32), s['parts']

def shapenet55(root:Path, n_train:int=6, n_test:int=3, pts:int=2048):
    "`ShapeNet55-34/shapenet_pc/<synset>-<id>.npy` and `ShapeNet-55/{train,test}.txt`."
    (root / 'shapenet_pc').mkdir(parents=True); (root / 'ShapeNet-55').mkdir()
    for split, n in (('train', n_train), ('test', n_test)):
        names = []
        for c, syn in list(SYNSETS.items())[:3]:
            for i in range(n):
                f = f'{syn}-{split}{i:03d}.npy'; np.save(root / 'shapenet_pc' / f, _cloud(c, pts, (SPLIT[split], i))[0]); names.append(f)
        (root / 'ShapeNet-55' / f'{split}.txt').write_text('\n'.join(names) + '\n')
    return root

def _snp_row(points, parts, normals=None):
    n = np.zeros_like(points) if normals is None else normals
    return np.c_[points, n, parts]

def shapenetpart(root:Path, shared:Path|None, n_train:int=4, n_test:int=2, pts:int=2048):
    "`..._v0_normal/<synset>/<id>.txt` (x y z nx ny nz part), `synsetoffset2category.txt`, `train_test_split/shuffled_*_file_list.json`."
    root.mkdir(parents=True); (root / 'train_test_split').mkdir()
    cats = [(name, syn) for name, syn in SNP.values()]; lists = {'train': [], 'val': [], 'test': []}
    for (c, (name, syn)) in SNP.items():                                   # synthetic shapes, parts mapped into the category's part ids
        (root / syn).mkdir(exist_ok=True); ids = SHAPENETPART_PARTS[name]
        for split, n in (('train', n_train), ('val', 1), ('test', n_test)):
            for i in range(n):
                p, parts = _cloud(c, pts, (7, SPLIT[split], i)); mid = f'syn_{c}_{split}{i}'
                np.savetxt(root / syn / f'{mid}.txt', _snp_row(p, np.asarray(ids)[parts % len(ids)]), fmt='%.5f')
                lists[split].append(f'shape_data/{syn}/{mid}')
    if shared is not None and (shared / 'shapenetpart_pts_sample').exists():   # real shapes: one per category (older layout, converted) and the caps
        order = [l.split() for l in (shared / 'shapenetpart_pts_sample' / 'synsetoffset2category.txt').read_text().splitlines() if l.strip()]
        for name, syn in order:
            for f in sorted((shared / 'shapenetpart_pts_sample' / syn / 'points').glob('*.pts')):
                p = np.loadtxt(f, dtype=np.float32)[:, :3]; lab = np.loadtxt(shared / 'shapenetpart_pts_sample' / syn / 'points_label' / f'{f.stem}.seg', dtype=np.int64)
                (root / syn).mkdir(exist_ok=True); np.savetxt(root / syn / f'{f.stem}.txt', _snp_row(p, SHAPENETPART_PARTS[name][0] + lab - 1), fmt='%.5f')
                lists['train'].append(f'shape_data/{syn}/{f.stem}')
            if (name, syn) not in cats: cats.append((name, syn))
        caps = sorted((shared / 'shapenetpart_cap' / 'shapenetcore_partanno_segmentation_benchmark_v0_normal' / '02954340').glob('*.txt'))
        (root / '02954340').mkdir(exist_ok=True)
        for i, f in enumerate(caps):
            shutil.copy(f, root / '02954340' / f.name); lists['test' if i % 4 == 0 else 'train'].append(f'shape_data/02954340/{f.stem}')
    cats.sort(key=lambda c: c[0])                                          # alphabetical, as the official file
    (root / 'synsetoffset2category.txt').write_text(''.join(f'{n}\t{s}\n' for n, s in cats))
    for split, entries in lists.items(): (root / 'train_test_split' / f'shuffled_{split}_file_list.json').write_text(json.dumps(entries))
    return root

def modelnet_fewshot(root:Path, way:int=5, shot:int=10, query:int=20, folds:int=1, pts:int=1024):
    "`ModelNetFewshot/<way>way<shot>shot/<fold>.pkl`: {'train': [(points (N, 6), label, class id)], 'test': [...]}."
    d = root / f'{way}way{shot}shot'; d.mkdir(parents=True)
    classes = list(SYNSETS)[:way]
    for f in range(folds):
        ep = {split: [(np.c_[_cloud(c, pts, (f, SPLIT[split], k, i))[0], np.zeros((pts, 3), np.float32)], k, 10 + k)
                      for k, c in enumerate(classes) for i in range(n)] for split, n in (('train', shot), ('test', query))}
        with open(d / f'{f}.pkl', 'wb') as fh: pickle.dump(ep, fh)
    return root

def released_checkpoint(path:Path):
    "A ViT-S at random weights in the released Point-JEPA Lightning layout (student, EMA teacher, predictor, hyper_parameters, loops)."
    torch.save(official_state_dict('pointjepa', released=True), path); return path

def paper_fixture(root:Path, shared:Path|None=None)->dict:
    root = Path(root)
    return dict(shapenet55=shapenet55(root / 'ShapeNet55-34'), shapenetpart=shapenetpart(root / 'shapenetcore_partanno_segmentation_benchmark_v0_normal', shared),
                fewshot=modelnet_fewshot(root / 'ModelNetFewshot'), ckpt=released_checkpoint(root / 'pointjepa_shapenet55.ckpt'))
