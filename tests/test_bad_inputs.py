"""A catalogue of bad, hostile and merely unusual inputs at every public entry point: each case asserts a clear error
(the message names the file or parameter and says how to fix it) or the correct behaviour. Pickle cases also assert that
the payload did NOT run (no marker file)."""
import json, os, pickle, struct, warnings
from dataclasses import asdict
from pathlib import Path
import h5py, numpy as np, pytest, torch
from foundry_nb.cloud import PointCloudError, check_points, make_sample
from foundry_nb.data import generate_shapes, load_npz_cache, safe_pickle_load, write_fewshot, SyntheticShapes
from foundry_nb.loaders import load_point_cloud, ModelNet40, ModelNetFewShot, ScanObjectNN, ShapeNet55, ShapeNetPart, write_tiny_datasets
from foundry_nb.tokenizer import group_points, PointTokenizer
from foundry_nb.teacher import PointEncoder, torch_load, load_encoder, load_teacher, save_encoder, load_state, CheckpointError, save_json
from foundry_nb.student import FoundryStudent, StudentConfig, load_student, save_student, COMPRESSORS, embedded_student
from foundry_nb.cache import cache_targets
from foundry_nb.training import Trainer, TrainConfig
from foundry_nb.experiments import check, check_device, ResultStore
import foundry_nb.baselines  # registers kmeans, fps, tome

# ----------------------------------------------------------------------------------------------------- helpers
class Evil:
    "A pickle payload that creates a marker file when unpickled."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def expect(exc, fn, *needles):
    "fn() raises `exc` and its message contains every needle."
    with pytest.raises(exc) as e: fn()
    for n in needles: assert n in str(e.value), f'{n!r} not in {str(e.value)!r}'
    return e.value

@pytest.fixture(scope='module')
def tiny(tmp_path_factory): return write_tiny_datasets(tmp_path_factory.mktemp('tiny'))

@pytest.fixture(scope='module')
def cloud():
    g = torch.Generator().manual_seed(0); x = torch.rand(2, 256, 3, generator=g) * 2 - 1
    return x / x.norm(dim=-1).max()

@pytest.fixture(scope='module')
def small_teacher():
    torch.manual_seed(0); return PointEncoder('tiny', depth=1, dim=48, heads=4).eval()

# ----------------------------------------------------------------------------------------- 1. code in data files
def test_modelnet40_dat_payload_refused(tiny, tmp_path):
    d = tmp_path / 'mn'; d.mkdir(); m = tmp_path / 'pwned'
    (d / 'modelnet40_train_8192pts_fps.dat').write_bytes(pickle.dumps([[np.zeros((8, 6), np.float32), Evil(m)], [np.array([0]), np.array([1])]]))
    expect(PointCloudError, lambda: ModelNet40(d, 'train'), 'modelnet40_train_8192pts_fps.dat', 'allow_pickle=True', 'posix.system')
    assert not m.exists()

def test_fewshot_pkl_payload_refused(tmp_path):
    d = tmp_path / 'fs' / '5way10shot'; d.mkdir(parents=True); m = tmp_path / 'pwned'
    (d / '0.pkl').write_bytes(pickle.dumps({'train': [(np.zeros((8, 3)), 0, 0)], 'test': Evil(m)}))
    expect(PointCloudError, lambda: ModelNetFewShot(tmp_path / 'fs', 5, 10, 0, 'train'), '0.pkl', 'allow_pickle=True')
    assert not m.exists()

def test_training_checkpoint_payload_refused(tmp_path):
    m, ck = tmp_path / 'pwned', tmp_path / 'train.pt'
    torch.save(dict(format='foundry_nb.train', model={}, hook=Evil(m)), ck)
    model = torch.nn.Linear(2, 1)
    expect(CheckpointError, lambda: Trainer(model, lambda m_, b: (m_(b).sum(), {}), [torch.zeros(2)] * 4, TrainConfig(batch_size=2, progress=False, device='cpu'), ck),
           'train.pt', 'allow_pickle=True')
    assert not m.exists()

@pytest.mark.parametrize('loader', [load_teacher, load_encoder, load_student, torch_load])
def test_model_checkpoint_payload_refused(tmp_path, loader):
    m, ck = tmp_path / 'pwned', tmp_path / 'model.pt'
    torch.save({'state_dict': {}, 'x': Evil(m)}, ck)
    expect(CheckpointError, lambda: loader(ck), 'model.pt', 'allow_pickle=True')
    assert not m.exists()

def test_safe_pickle_plain_data_loads_without_opt_in(tiny):
    ds = ModelNet40(tiny['modelnet40_dat'], 'train'); assert len(ds) == 4 and ds[0]['points'].shape == (64, 3)
    assert len(ModelNetFewShot(tiny['ModelNetFewshot'], 2, 1, 0, 'test')) == 4

def test_opt_in_is_announced(tmp_path):
    p = tmp_path / 'x.pkl'; p.write_bytes(pickle.dumps({'a': [1, 2]}))
    with pytest.warns(UserWarning, match='x.pkl'): assert safe_pickle_load(p, allow_pickle=True) == {'a': [1, 2]}

@pytest.mark.parametrize('kind', ['npy', 'random'])
def test_no_opt_in_advice_for_non_checkpoints(tmp_path, kind):
    p = tmp_path / f'file.{kind}'
    if kind == 'npy': np.save(p, np.zeros(3))
    else: p.write_bytes(np.random.default_rng(0).bytes(2048))
    e = expect(CheckpointError, lambda: torch_load(p), str(p))
    assert 'allow_pickle' not in str(e)

# ------------------------------------------------------------------------------------ 2. truncated / corrupt files
def _ply(path, n, rows, binary=False):
    head = f'ply\nformat {"binary_little_endian" if binary else "ascii"} 1.0\nelement vertex {n}\nproperty float x\nproperty float y\nproperty float z\nend_header\n'
    body = struct.pack(f'<{3 * rows}f', *range(3 * rows)) if binary else ''.join(f'{i} {i} {i}\n' for i in range(rows)).encode()
    path.write_bytes(head.encode() + body); return path

def test_truncated_ascii_ply(tmp_path): expect(PointCloudError, lambda: load_point_cloud(_ply(tmp_path / 'a.ply', 10, 4)), 'a.ply', 'truncated')
def test_truncated_binary_ply(tmp_path): expect(PointCloudError, lambda: load_point_cloud(_ply(tmp_path / 'b.ply', 10, 4, True)), 'b.ply', 'truncated')
def test_complete_ply_loads(tmp_path): assert load_point_cloud(_ply(tmp_path / 'c.ply', 10, 10))['points'].shape == (10, 3)

def test_truncated_kitti(tmp_path):
    p = tmp_path / '000000.bin'; p.write_bytes(np.zeros(4 * 10 + 2, np.float32).tobytes()[:-3])
    expect(PointCloudError, lambda: load_point_cloud(p), '000000.bin', 'truncated')

def test_truncated_npy(tmp_path):
    p = tmp_path / 'x.npy'; np.save(p, np.zeros((100, 3), np.float32)); p.write_bytes(p.read_bytes()[:200])
    expect(PointCloudError, lambda: load_point_cloud(p), 'x.npy', 'truncated')

def test_empty_file(tmp_path): p = tmp_path / 'e.txt'; p.write_text(''); expect(PointCloudError, lambda: load_point_cloud(p), 'e.txt', 'empty')
def test_unknown_extension(tmp_path): p = tmp_path / 'e.xyzw'; p.write_text('1 2 3'); expect(PointCloudError, lambda: load_point_cloud(p), 'e.xyzw', 'supported')
def test_missing_file(tmp_path): expect(FileNotFoundError, lambda: load_point_cloud(tmp_path / 'nope.ply'), 'nope.ply')

def test_ragged_text(tmp_path):
    p = tmp_path / 'r.txt'; p.write_text('0 0 0\n1 1 1\n2 2\n')
    expect(PointCloudError, lambda: load_point_cloud(p), 'r.txt', 'truncated or malformed')

def test_non_numeric_text(tmp_path): p = tmp_path / 'n.txt'; p.write_text('a b c\n'); expect(PointCloudError, lambda: load_point_cloud(p), 'n.txt', 'not a numeric')
def test_nan_in_file(tmp_path):
    p = tmp_path / 'nan.txt'; p.write_text('0 0 0\nnan 1 1\n2 2 2\n')
    expect(PointCloudError, lambda: load_point_cloud(p), 'nan.txt', "nan='drop'")
    assert load_point_cloud(p, nan='drop')['n_dropped'] == 1

def test_huge_coordinates_in_file(tmp_path):
    p = tmp_path / 'big.txt'; p.write_text('0 0 0\n1e20 1 1\n2 2 2\n')
    expect(PointCloudError, lambda: load_point_cloud(p), 'big.txt', 'rescale')

@pytest.mark.parametrize('cut', [0, 10, 100, 1000])
def test_truncated_checkpoint(tmp_path, small_teacher, cut):
    save_encoder(small_teacher, tmp_path / 'enc.pt'); (tmp_path / 'cut.pt').write_bytes((tmp_path / 'enc.pt').read_bytes()[:cut])
    expect(CheckpointError, lambda: load_encoder(tmp_path / 'cut.pt'), 'cut.pt', 'truncated or corrupt')

def test_truncated_h5(tiny, tmp_path):
    import shutil; d = tmp_path / 'h5'; shutil.copytree(tiny['modelnet40_ply_hdf5_2048'], d)
    f = d / 'ply_data_train0.h5'; f.write_bytes(f.read_bytes()[:400])
    expect(PointCloudError, lambda: ModelNet40(d, 'train'), 'ply_data_train0.h5', 'truncated')

def test_corrupt_synthetic_cache_rebuilt(tmp_path):
    a = generate_shapes('train', 1, 128, cache_dir=tmp_path); f = next(tmp_path.glob('*.npz'))
    f.write_bytes(f.read_bytes()[:-500])
    with pytest.warns(UserWarning, match=f.name): b = generate_shapes('train', 1, 128, cache_dir=tmp_path)
    assert np.array_equal(a['points'], b['points']) and load_npz_cache(f) is not None

def test_bitflip_cache_detected(tmp_path):
    a = generate_shapes('train', 1, 128, cache_dir=tmp_path); f = next(tmp_path.glob('*.npz'))
    raw = bytearray(f.read_bytes()); raw[len(raw) // 3] ^= 0xFF; f.write_bytes(bytes(raw))   # CRC-32 mismatch inside a member
    with pytest.warns(UserWarning, match='corrupt cache'): assert load_npz_cache(f) is None
    assert not f.exists()                                                                      # deleted: the next run rebuilds it

def test_corrupt_token_cache_rebuilt(tmp_path, small_teacher):
    ds = SyntheticShapes('train', 1, 512, cache_dir=tmp_path / 'syn')
    a = cache_targets(small_teacher, ds, 256, cache_dir=tmp_path / 'tok'); f = next((tmp_path / 'tok').glob('*.npz'))
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.warns(UserWarning, match=f.name): b = cache_targets(small_teacher, ds, 256, cache_dir=tmp_path / 'tok')
    assert np.array_equal(a['targets'], b['targets'])

# ----------------------------------------------------------------------------------- 3. datasets: labels, lengths
def _h5(d, name, data, label):
    d.mkdir(parents=True, exist_ok=True)
    with h5py.File(d / name, 'w') as h: h['data'] = data; h['label'] = label

@pytest.mark.parametrize('bad', [99, -1])
def test_h5_label_out_of_range(tmp_path, bad):
    _h5(tmp_path, 'ply_data_train0.h5', np.zeros((3, 16, 3), np.float32), np.array([[0], [1], [bad]]))
    expect(PointCloudError, lambda: ModelNet40(tmp_path, 'train'), 'ply_data_train0.h5', f'label {bad}')

def test_h5_more_clouds_than_labels(tmp_path):
    _h5(tmp_path, 'ply_data_train0.h5', np.zeros((5, 16, 3), np.float32), np.array([[0], [1], [2]]))
    expect(PointCloudError, lambda: ModelNet40(tmp_path, 'train'), '5 clouds but 3 labels')

def test_scanobjectnn_label_out_of_range(tmp_path):
    _h5(tmp_path / 'main_split', 'training_objectdataset_augmentedrot_scale75.h5', np.zeros((2, 16, 3), np.float32), np.array([0, 15]))
    expect(PointCloudError, lambda: ScanObjectNN(tmp_path, 'PB_T50_RS', 'train'), 'label 15', '[0, 15)')

def test_fewshot_label_beyond_way(tmp_path):
    d = tmp_path / '2way1shot'; d.mkdir(); (d / '0.pkl').write_bytes(pickle.dumps({'train': [(np.zeros((8, 3)), 0, 0), (np.zeros((8, 3)), 5, 0)], 'test': []}))
    expect(PointCloudError, lambda: ModelNetFewShot(tmp_path, 2, 1, 0, 'train'), 'label 5', '[0, 2)')

def test_dat_lengths_mismatch(tmp_path):
    (tmp_path / 'modelnet40_test_8192pts_fps.dat').write_bytes(pickle.dumps([[np.zeros((8, 6), np.float32)] * 3, [np.array([0])] * 2]))
    expect(PointCloudError, lambda: ModelNet40(tmp_path, 'test'), '3 clouds but 2 labels')

def test_unknown_split(tiny): expect(KeyError, lambda: ModelNet40(tiny['modelnet40_dat'], 'val'), "unknown split 'val'")
def test_unknown_variant(tiny): expect(KeyError, lambda: ScanObjectNN(tiny['ScanObjectNN'], 'PB_T25'), 'unknown ScanObjectNN variant')
def test_missing_root(tmp_path): expect(FileNotFoundError, lambda: ShapeNet55(tmp_path / 'nowhere'), 'nowhere', 'missing ShapeNet55 root')
def test_shapenetpart_wrong_part(tiny, tmp_path):
    import shutil; d = tmp_path / 'sp'; shutil.copytree(tiny['shapenetpart'], d); sp = ShapeNetPart(d, 'train')
    a = np.loadtxt(sp.files[0]); a[0, 6] = 40; np.savetxt(sp.files[0], a, fmt='%.6f')
    expect(PointCloudError, lambda: sp[0], 'are not parts of Airplane')

def test_make_sample_parts_length(): expect(PointCloudError, lambda: make_sample(np.zeros((4, 3), np.float32), parts=[0, 1], name='s'), 's: 2 part labels for 4 points')
def test_write_fewshot_too_many_ways():
    a = generate_shapes('train', 1, 64, cache_dir=False)
    with pytest.raises(ValueError, match='way=50'): write_fewshot('/tmp/_never', a, a, way=50, shot=1)

# ------------------------------------------------------------------------------------------ 4. points at the tokenizer
def test_float64_converted(cloud): assert torch.equal(group_points(cloud.double(), 64, 32, start=0)[1], group_points(cloud, 64, 32, start=0)[1])
def test_float16_converted(cloud): assert group_points(cloud.half(), 64, 32, start=0)[1].dtype == torch.float32
def test_bfloat16_converted(cloud): assert group_points(cloud.bfloat16(), 64, 32, start=0)[0].dtype == torch.float32
def test_numpy_converted(cloud): assert torch.equal(group_points(cloud.numpy(), 64, 32, start=0)[1], group_points(cloud, 64, 32, start=0)[1])
def test_teacher_takes_float64(cloud):
    torch.manual_seed(0); t = PointEncoder('tiny', depth=1, dim=48, heads=4).eval()
    with torch.no_grad(): assert torch.equal(t(cloud.double(), torch.Generator().manual_seed(0)).tokens, t(cloud, torch.Generator().manual_seed(0)).tokens)
def test_huge_coordinates(cloud): expect(PointCloudError, lambda: group_points(cloud * 1e20, 64, 32), 'normalise')
def test_nan_points(cloud): x = cloud.clone(); x[0, 3, 0] = float('nan'); expect(PointCloudError, lambda: group_points(x, 64, 32), 'NaN')
def test_inf_points(cloud): x = cloud.clone(); x[1, 3, 2] = float('inf'); expect(PointCloudError, lambda: group_points(x, 64, 32), 'NaN/inf')
def test_channels_first(cloud): expect(PointCloudError, lambda: group_points(cloud.transpose(1, 2), 64, 32), 'channels-first', 'transpose(1, 2)')
def test_empty_batch(cloud): expect(PointCloudError, lambda: group_points(cloud[:0], 64, 32), 'empty', 'B = 0')
def test_unbatched(cloud): expect(PointCloudError, lambda: group_points(cloud[0], 64, 32), '(B, N, 3)', 'points[None]')
def test_integer_points(cloud): expect(PointCloudError, lambda: group_points(cloud.long(), 64, 32), 'must be float')
def test_fewer_points_than_groups(cloud):
    "A cloud smaller than the groups (40 points, 64 groups of 32) is repeated up to size, not refused; indices refer to its own points."
    nb, ctr, idx = group_points(cloud[:, :40], 64, 32, start=0)
    assert nb.shape == (2, 64, 32, 3) and int(idx.max()) < 40 and torch.isfinite(nb).all()
def test_empty_clouds(cloud): expect(PointCloudError, lambda: group_points(cloud[:, :0], 64, 32), 'N = 0')
def test_list_input(): expect(TypeError, lambda: group_points([[0., 0., 0.]], 64, 32), 'torch tensor')
def test_check_points_wrong_columns(): expect(PointCloudError, lambda: check_points(np.zeros((4, 2)), src='f.txt'), 'f.txt', 'at least 3 columns')

# ------------------------------------------------------------------------------------------------ 5. models
@pytest.mark.parametrize('comp', ['dso', 'kmeans', 'fps', 'tome'])
def test_s_larger_than_c_refused(small_teacher, comp):
    expect(ValueError, lambda: FoundryStudent(StudentConfig(asdict(small_teacher.cfg), compressor=comp, s=100), small_teacher), 's=100', 'c=64', 'not a compression')

@pytest.mark.parametrize('comp', ['kmeans', 'fps', 'tome'])
def test_compressor_checks_s_itself(comp):
    T = torch.randn(1, 8, 16); expect(ValueError, lambda: COMPRESSORS[comp](16, 12)(T, T, torch.randn(1, 8, 3)), 's=12', 'c=8')

def test_zero_supertokens(small_teacher): expect(ValueError, lambda: FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=0), small_teacher), 's=0')
def test_unknown_compressor(small_teacher): expect(KeyError, lambda: FoundryStudent(StudentConfig(asdict(small_teacher.cfg), compressor='pca'), small_teacher), "unknown compressor 'pca'")
def test_gate_budget_above_c(cloud):
    g = embedded_student('gate_s16'); g.budget = 100
    with torch.no_grad(): expect(ValueError, lambda: g(torch.cat([cloud] * 4, 1)), 'r=100', 'c=64')
def test_checkpoint_of_other_config(small_teacher): expect(CheckpointError, lambda: load_state(PointEncoder('tiny', depth=2, dim=48, heads=4), small_teacher.state_dict()), 'missing')
def test_student_loader_on_teacher_file(tmp_path, small_teacher):
    save_encoder(small_teacher, tmp_path / 't.pt'); expect(CheckpointError, lambda: load_student(tmp_path / 't.pt'), 't.pt', 'not a student')
def test_encoder_loader_on_student_file(tmp_path, small_teacher):
    st = FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=4), small_teacher); save_student(st, tmp_path / 's.pt')
    expect(CheckpointError, lambda: load_encoder(tmp_path / 's.pt'), 's.pt', 'a foundry_nb student, not an encoder')
def test_student_roundtrip_keeps_tau(tmp_path, small_teacher):
    st = FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=4), small_teacher); st.compressor.tau = 0.25; save_student(st, tmp_path / 's.pt')
    assert abs(load_student(tmp_path / 's.pt').compressor.tau - 0.25) < 1e-6
def test_shipped_students_still_load(): assert embedded_student('s16').compressor.tau > 0

# ------------------------------------------------------------------------------------ 6. training state and resume
def _toy(tmp_path, **over):
    torch.manual_seed(0); m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))
    g = torch.Generator().manual_seed(0); data = [dict(x=torch.randn(4, generator=g), y=torch.randn((), generator=g)) for _ in range(32)]
    return Trainer(m, lambda m_, b: (((m_(b['x'])[:, 0] - b['y']) ** 2).mean(), {}), data,
                   TrainConfig(**{**dict(epochs=4, batch_size=8, lr=1e-2, progress=False, device='cpu'), **over}), tmp_path / 'run.pt')

@pytest.mark.parametrize('change', [dict(epochs=2), dict(epochs=6), dict(lr=1e-3), dict(seed=1), dict(batch_size=4)])
def test_resume_with_other_settings_refused(tmp_path, change):
    _toy(tmp_path).fit(); before = (tmp_path / 'run.pt').read_bytes()
    expect(CheckpointError, lambda: _toy(tmp_path, **change), 'run.pt', 'other settings', 'another ckpt_path')
    assert (tmp_path / 'run.pt').read_bytes() == before                     # the finished run is never overwritten

def test_same_settings_resume_returns_finished_run(tmp_path):
    a = _toy(tmp_path); a.fit(); b = _toy(tmp_path)
    assert b.step == a.step and all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))

def test_training_checkpoint_is_plain(tmp_path):
    _toy(tmp_path, epochs=1).fit(); assert torch_load(tmp_path / 'run.pt')['format'] == 'foundry_nb.train'

# ----------------------------------------------------------------------------------------------- 7. concurrency
def test_save_json_unique_temp_names(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as ex: list(ex.map(lambda i: save_json({'i': i}, tmp_path / 'r.json'), range(64)))
    assert json.loads((tmp_path / 'r.json').read_text())['i'] in range(64) and not list(tmp_path.glob('.*tmp'))

def test_result_store_two_writers_keep_every_row(tmp_path):
    a, b = ResultStore(tmp_path / 'rows.json'), ResultStore(tmp_path / 'rows.json')
    for i in range(20): a.get(f'a{i}', lambda: i); b.get(f'b{i}', lambda: i)
    assert len(json.loads((tmp_path / 'rows.json').read_text())) == 40

# -------------------------------------------------------------------------------------------------- 8. parameters
@pytest.mark.parametrize('value,want', [('[1, 16]', [1, 16]), ('1,16', [1, 16]), ([4], [4])])
def test_list_parameter_from_papermill_string(value, want): assert check('s_list', value, int, 1, 64, each=True) == want
def test_list_parameter_out_of_range(): expect(ValueError, lambda: check('s_list', '[1, 99]', int, 1, 64, each=True), 'parameter s_list', '[1, 64]')
def test_bool_parameter(): expect(ValueError, lambda: check('allow_pickle', 'yes', bool), 'parameter allow_pickle')
def test_unknown_device(): expect(ValueError, lambda: check_device('gpu'), 'parameter device', 'choose one of')
@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has CUDA: device=cuda is valid here')
def test_cuda_absent(): expect(ValueError, lambda: check_device('cuda'), "device='cuda'", "use device='auto' or 'cpu'")

def test_georeferenced_file_loads_but_model_asks_to_normalise(tmp_path):
    p = tmp_path / 'utm.xyz'; p.write_text('\n'.join(f'{5.6e6 + i} {4.2e5 + 2 * i} {100 + i}' for i in range(64)))
    s = load_point_cloud(p); assert s['points'].shape == (64, 3)                     # real survey data in metres is data, not an error
    expect(PointCloudError, lambda: group_points(torch.from_numpy(s['points'])[None], 16, 8), 'normalise')

# ------------------------------------------------------------------------ 9. nothing silent (integrity, degenerate clouds, named culprits)
def _toy_trainer(tmp_path, name='run.pt', width=8, device='cpu', **kw):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.Linear(width, 1))
    xs = [dict(x=torch.randn(4), y=torch.randn(())) for _ in range(16)]
    loss = lambda m, b: (((m(b['x'])[:, 0] - b['y']) ** 2).mean(), {})
    return Trainer(model, loss, xs, TrainConfig(epochs=3, batch_size=4, lr=1e-2, progress=False, device=device, ckpt_every=1, **kw), tmp_path / name)

def test_damaged_training_checkpoint_refused_and_previous_offered(tmp_path):
    "A resume from a damaged checkpoint used to go on silently and end with other weights: now it is refused, the intact previous one offered."
    t = _toy_trainer(tmp_path)
    t.fit(max_steps=6)
    raw = bytearray((tmp_path / 'run.pt').read_bytes()); raw[len(raw) // 2] ^= 0x10; (tmp_path / 'run.pt').write_bytes(bytes(raw))
    expect(CheckpointError, lambda: _toy_trainer(tmp_path), 'run.pt: damaged', 'run.prev.pt is intact')

def test_resume_with_another_model_named(tmp_path):
    _toy_trainer(tmp_path).fit(max_steps=2)
    expect(CheckpointError, lambda: _toy_trainer(tmp_path, width=16), 'run.pt (a training checkpoint) does not fit the model', 'mismatched', 'another model')

def test_nan_weights_refused(tmp_path, small_teacher):
    import copy
    bad = copy.deepcopy(small_teacher)
    with torch.no_grad(): bad.encoder.norm.weight[3] = float('inf')
    save_encoder(bad, tmp_path / 'nan.pt')
    expect(CheckpointError, lambda: load_teacher(tmp_path / 'nan.pt'), 'nan.pt', 'NaN/inf', 'encoder.norm.weight')
    st = FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=4), small_teacher)
    with torch.no_grad(): st.cau.mlp[0].weight.fill_(float('nan'))
    save_student(st, tmp_path / 's.pt')
    expect(CheckpointError, lambda: load_student(tmp_path / 's.pt'), 's.pt', 'NaN/inf')

def test_module_prefix_loads(small_teacher):
    m = PointEncoder(small_teacher.cfg)
    load_state(m, {f'module.{k}': v for k, v in small_teacher.state_dict().items()})
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), small_teacher.state_dict().values()))

def test_student_file_where_teacher_expected(tmp_path, small_teacher):
    save_student(FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=4), small_teacher), tmp_path / 's.pt')
    expect(CheckpointError, lambda: load_teacher(tmp_path / 's.pt'), 's.pt', 'student', 'load_student')
    save_encoder(small_teacher, tmp_path / 't.pt')
    expect(CheckpointError, lambda: load_student(tmp_path / 't.pt'), 't.pt', 'not a student', 'load_teacher')

def test_unknown_config_field_names_the_file(tmp_path, small_teacher):
    save_encoder(small_teacher, tmp_path / 't.pt'); ck = torch_load(tmp_path / 't.pt'); ck['config']['new_knob'] = 3; torch.save(ck, tmp_path / 't.pt')
    expect(CheckpointError, lambda: load_teacher(tmp_path / 't.pt'), 't.pt', 'new_knob', 'another version')
    save_student(FoundryStudent(StudentConfig(asdict(small_teacher.cfg), s=4), small_teacher), tmp_path / 's.pt')
    ck = torch_load(tmp_path / 's.pt'); ck['config']['new_knob'] = 3; torch.save(ck, tmp_path / 's.pt')
    expect(CheckpointError, lambda: load_student(tmp_path / 's.pt'), 's.pt', 'new_knob')

def test_generated_cache_not_matching_its_key_is_rebuilt(tmp_path):
    from foundry_nb.data import atomic_save_npz
    a = generate_shapes('train', 1, 128, cache_dir=tmp_path)
    f = next(tmp_path.glob('synthetic-*.npz')); atomic_save_npz(f, **{k: v[:5] for k, v in a.items()})
    with pytest.warns(UserWarning, match='does not hold what its key describes'): b = generate_shapes('train', 1, 128, cache_dir=tmp_path)
    assert np.array_equal(a['points'], b['points'])

def test_target_cache_not_matching_its_key_is_rebuilt(tmp_path, small_teacher):
    from foundry_nb.data import atomic_save_npz
    small_teacher.tokenizer.start = 0
    ds = SyntheticShapes('train', 1, 512, cache_dir=tmp_path, classes=['chair', 'mug'])
    c = cache_targets(small_teacher, ds, 256, cache_dir=tmp_path)
    f = next(tmp_path.glob('targets-*.npz')); atomic_save_npz(f, **dict(c, targets=c['targets'][:, :10]))      # targets with another token count
    with pytest.warns(UserWarning, match=r'targets \(2, 10, 48\), expected \(2, 64, 48\)'): d = cache_targets(small_teacher, ds, 256, cache_dir=tmp_path)
    assert np.array_equal(c['targets'], d['targets'])

def test_cache_folder_that_is_a_file(tmp_path):
    (tmp_path / 'f').write_text('x')
    expect(NotADirectoryError, lambda: generate_shapes('train', 1, 64, cache_dir=tmp_path / 'f'), 'is a file, not a folder', 'cache_dir')

@pytest.mark.parametrize('backend', ['cpu', 'torch'])
def test_repeated_points_tokenize(backend):
    "A 50-point segment repeated to 1,024 points used to stop the CPU back-end (fpsample returned repeated indices)."
    seg = torch.from_numpy(np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32))
    x = seg[torch.arange(1024) % 50][None]
    nb, ctr, idx = group_points(x, 64, 32, start=0, backend=backend)
    assert torch.isfinite(nb).all() and ctr.shape == (1, 64, 3) and len(torch.unique(ctr[0], dim=0)) == 50

def test_backends_agree_on_ties():
    lattice = torch.from_numpy(np.stack(np.meshgrid(*[np.linspace(-.5, .5, 10)] * 3), -1).reshape(1, -1, 3).astype(np.float32))
    a, b = group_points(lattice, 64, 32, start=3, backend='cpu'), group_points(lattice, 64, 32, start=3, backend='torch')
    assert torch.equal(a[1], b[1]) and torch.equal(a[0], b[0])

def test_cuda_on_cpu_only_torch():
    from foundry_nb.training import resolve_device
    if torch.cuda.is_available(): pytest.skip('this machine has CUDA: the CPU-only message cannot be shown')
    expect(ValueError, lambda: resolve_device('cuda'), "device='cuda'", 'no CUDA', "device='cpu'")
    expect(ValueError, lambda: _toy_trainer(Path('/nonexistent'), device='cuda'), 'no CUDA')

@pytest.mark.parametrize('r', [-1, 2.5, 65, 'all', True])
def test_unusable_gate_budget(r):
    st = embedded_student('gate_s16')
    st.budget = r
    expect(ValueError, lambda: st(torch.rand(1, 1024, 3)), f'r={r!r}', "'threshold'", 'c=64')

def test_loader_kinds_named(tmp_path):
    (tmp_path / 'latin.xyz').write_bytes(b'# caf\xe9\n0 0 0\n1 1 1\n2 2 2\n')
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'latin.xyz'), 'latin.xyz', 'not UTF-8', '0xe9')
    (tmp_path / 'big.xyz').write_text('1e300 0 0\n1 1 1\n2 2 2\n')
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'big.xyz'), 'big.xyz', '1e+300', 'float32')
    (tmp_path / 'scans.ply').mkdir()
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'scans.ply'), 'scans.ply', 'a folder, not a file')
    expect(PointCloudError, lambda: load_point_cloud(tmp_path), 'a folder, not a file')
    np.save(tmp_path / 'c.npy', np.ones((5, 3), complex))
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'c.npy'), 'c.npy', 'complex')
    expect(PointCloudError, lambda: check_points(np.ones((5, 3), complex)), 'complex')
    np.save(tmp_path / 's.npy', np.zeros(5, dtype=[('x', 'f4'), ('y', 'f4'), ('z', 'f4')]))
    assert load_point_cloud(tmp_path / 's.npy')['points'].shape == (5, 3)                         # named fields x, y, z: read
    np.save(tmp_path / 'q.npy', np.zeros(5, dtype=[('a', 'f4'), ('b', 'f4')]))
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'q.npy'), 'q.npy', "['a', 'b']", 'x, y, z')
    nr = np.random.rand(4, 3); nr[1] = np.nan
    np.savetxt(tmp_path / 'n.txt', np.c_[np.random.rand(4, 3), nr])
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'n.txt'), 'n.txt', '1 of 4 normals are NaN/inf', "nan='drop'")
    s = load_point_cloud(tmp_path / 'n.txt', nan='drop')
    assert len(s['points']) == 3 and np.isfinite(s['normals']).all() and s['n_dropped'] == 1
    expect(PointCloudError, lambda: make_sample(np.zeros((2, 3), np.float32), normals=np.full((2, 3), np.inf)), 'normals are NaN/inf')

def test_mesh_kinds_named(tmp_path):
    (tmp_path / 'm.off').write_text('OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 9\n')
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'm.off'), 'm.off', 'face')
    (tmp_path / 'ok.off').write_text('OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 3\n')
    expect(ValueError, lambda: load_point_cloud(tmp_path / 'ok.off', n_mesh_points=-5), 'n_mesh_points', '-5', 'positive int')
    (tmp_path / 'flat.off').write_text('OFF\n3 1 0\n0 0 0\n1 1 1\n2 2 2\n3 0 1 2\n')
    expect(PointCloudError, lambda: load_point_cloud(tmp_path / 'flat.off'), 'flat.off', 'zero surface area')
    from foundry_nb.loaders import sample_mesh                       # the sampler called directly: its count checked too
    for n in (-5, 0, 2.5): expect(ValueError, lambda: sample_mesh(np.eye(3), np.array([[0, 1, 2]]), n), 'sample_mesh', 'n', repr(n), 'positive int')

def test_shapenetpart_split_kinds_named(tiny):
    import shutil
    root = Path(tiny['shapenetpart']); split = root / 'train_test_split' / 'shuffled_test_file_list.json'
    good = split.read_text()
    try:
        split.write_text(good[:len(good) // 2])
        expect(PointCloudError, lambda: ShapeNetPart(root, 'test'), 'shuffled_test_file_list.json', 'not valid JSON')
        split.write_text(json.dumps(['shape_data/02691156']))
        expect(PointCloudError, lambda: ShapeNetPart(root, 'test'), "'shape_data/02691156'", 'shape_data/<synset>/<id>')
    finally: split.write_text(good)
