"What crosses chapters: every dataset feeds the same transforms, DataLoader and tokenizer; error handling."
import numpy as np, pytest, torch
from foundry_nb.data import SyntheticShapes, Compose, Normalize, Resample, RandomRotate, generate_shapes, write_fewshot
from foundry_nb.cloud import PointCloudError
from foundry_nb.loaders import write_tiny_datasets, ShapeNet55, ModelNet40, ModelNetFewShot, ScanObjectNN, ShapeNetPart
from foundry_nb.tokenizer import PointTokenizer

@pytest.fixture(scope='module')
def tiny(tmp_path_factory): return write_tiny_datasets(tmp_path_factory.mktemp('tiny'), n=4, pts=128)

def _datasets(tiny, tfm):
    return [ShapeNet55(tiny['ShapeNet55-34'], transform=tfm), ModelNet40(tiny['modelnet40_normal_resampled'], transform=tfm),
            ModelNet40(tiny['modelnet40_dat'], transform=tfm), ModelNet40(tiny['modelnet40_ply_hdf5_2048'], transform=tfm),
            ModelNetFewShot(tiny['ModelNetFewshot'], 2, 1, 0, 'test', transform=tfm), ScanObjectNN(tiny['ScanObjectNN'], transform=tfm),
            ShapeNetPart(tiny['shapenetpart'], transform=tfm), SyntheticShapes('test', 1, 256, transform=tfm)]

def test_same_structure_transforms_and_tokenizer(tiny):
    tfm = Compose(Resample(64, 'fps'), Normalize(), RandomRotate())
    tok = PointTokenizer(num_groups=8, group_size=16, dim=32).eval()
    for ds in _datasets(tiny, tfm):
        b = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
        assert b['points'].shape == (2, 64, 3) and b['parts'].shape == (2, 64) and b['label'].shape == (2,), type(ds).__name__
        assert torch.allclose(b['points'].norm(dim=-1).amax(1), torch.ones(2), atol=1e-5)
        with torch.no_grad(): t, c = tok(b['points'])
        assert t.shape == (2, 8, 32)

def test_fewshot_roundtrip_synthetic(tmp_path):
    tr, te = generate_shapes('train', 10, 128), generate_shapes('test', 20, 128)
    write_fewshot(tmp_path, tr, te, way=5, shot=10, folds=3)
    for fold in range(3):
        sup, qry = ModelNetFewShot(tmp_path, 5, 10, fold, 'train'), ModelNetFewShot(tmp_path, 5, 10, fold, 'test')
        assert len(sup) == 50 and len(qry) == 100 and sorted(set(sup.labels())) == list(range(5))
    with pytest.raises(FileNotFoundError, match='10-way 10-shot'): ModelNetFewShot(tmp_path, 10, 10, 0)

def test_generation_cache_is_reused(tmp_path):
    a = generate_shapes('train', 2, 128, cache_dir=tmp_path)
    f = next(tmp_path.glob('*.npz')); mtime = f.stat().st_mtime_ns
    b = generate_shapes('train', 2, 128, cache_dir=tmp_path)
    assert f.stat().st_mtime_ns == mtime and np.array_equal(a['points'], b['points'])
    assert len(list(tmp_path.glob('*.tmp'))) == 0

def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(KeyError, match='unknown split'): SyntheticShapes('dev', 1, 64)
    with pytest.raises(KeyError, match='unknown category'): SyntheticShapes('test', 1, 64, classes=['spaceship'])
    with pytest.raises(PointCloudError, match="Resample\\(4096, 'replace'\\)"): Resample(4096, 'fps')(SyntheticShapes('test', 1, 256)[0], np.random.default_rng(0))
