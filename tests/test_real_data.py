"Loaders on the real files in ../shared/data (skipped with a reason where that folder is absent)."
import numpy as np, pytest, torch
from foundry_nb.cloud import PointCloudError
from foundry_nb.data import Normalize
from foundry_nb.loaders import load_point_cloud, ModelNet40, ShapeNetPart
from foundry_nb.tokenizer import PointTokenizer

def test_modelnet40_txt(shared_data):
    root = shared_data / 'modelnet40_normal_resampled'
    ds = ModelNet40(root, 'train', fmt='txt', ids_file='subset_modelnet40_train.txt')
    assert len(ds) == len((root / 'subset_modelnet40_train.txt').read_text().split())
    assert len(ds.classes) == 40 and ds.classes[0] == 'airplane'
    s = ds[0]
    assert s['points'].shape == (10_000, 3) and s['normals'].shape == (10_000, 3) and ds.classes[s['label']] == 'airplane'
    ids = (root / 'subset_modelnet40_train.txt').read_text().split()
    assert set(ds.labels()) == {ds.classes.index(i.rsplit('_', 1)[0]) for i in ids}

def test_modelnet40_official_list_reports_missing(shared_data):
    with pytest.raises(FileNotFoundError, match='files are missing'):
        ModelNet40(shared_data / 'modelnet40_normal_resampled', 'train', fmt='txt')

def test_shapenetpart_caps(shared_data):
    root = shared_data / 'shapenetpart_cap' / 'shapenetcore_partanno_segmentation_benchmark_v0_normal'
    ds = ShapeNetPart(root, 'test', file_list='subset_present_test_file_list.json')
    assert len(ds) > 0 and len(ds.classes) == 16
    for i in range(len(ds)):
        s = ds[i]
        assert ds.classes[s['label']] == 'Cap' and set(np.unique(s['parts'])) <= {6, 7}
        assert s['points'].shape[1] == 3 and np.isfinite(s['points']).all()
    with pytest.raises(FileNotFoundError, match='missing'):   # the official full list names shapes absent here
        ShapeNetPart(root, 'test')

@pytest.mark.parametrize('name', ['bun0.pcd', 'bunny.pcd', 'car6.pcd', 'cturtle.pcd', 'milk.pcd'])
def test_pcd_scans(shared_data, name):
    s = load_point_cloud(shared_data / 'pcl_scans' / name)
    assert len(s['points']) > 100 and np.isfinite(s['points']).all()

@pytest.mark.parametrize('name', ['kinect_frame_organized.pcd', 'office1.pcd', 'table_scene_mug_stereo_textured.pcd'])
def test_pcd_organised_frames_with_nan(shared_data, name):
    with pytest.raises(PointCloudError, match="nan='drop'"):
        load_point_cloud(shared_data / 'pcl_scans' / name)
    s = load_point_cloud(shared_data / 'pcl_scans' / name, nan='drop')
    assert s['n_dropped'] > 0 and len(s['points']) + s['n_dropped'] == 640 * 480

def test_kitti(shared_data):
    for f in sorted((shared_data / 'kitti/train/sequences/00/velodyne').glob('*.bin')):
        s = load_point_cloud(f)
        assert len(s['points']) > 100_000 and s['intensity'].shape == (len(s['points']),)
        assert len(s['points']) * 16 == f.stat().st_size

@pytest.mark.parametrize('name,n', [('bunny.ply', 2048), ('ballA.off', 2048), ('comments.off', 2048), ('whitespace.off', 2048),
                                    ('points_ascii.ply', 5), ('points_bin.ply', 5), ('points_agisoft.xyz', 100)])
def test_meshes_and_point_files(shared_data, name, n):
    s = load_point_cloud(shared_data / 'meshes' / name, n_mesh_points=2048)
    assert s['points'].shape == (n, 3) and np.isfinite(s['points']).all()

def test_tokenize_real_scan(shared_data):
    "A real LiDAR frame goes through the tokenizer (CPU back-end, eval mode, chunked)."
    pts = load_point_cloud(shared_data / 'kitti/train/sequences/00/velodyne/000000.bin')['points']
    x = torch.from_numpy(Normalize()(dict(points=pts))['points'])[None]
    tok = PointTokenizer(num_groups=len(pts) // 64, group_size=32, dim=64, start=None).eval()
    with torch.no_grad(): t, c = tok(x)
    assert t.shape == (1, len(pts) // 64, 64) and torch.isfinite(t).all()

def _segments(shared_data, sizes=(50, 20, 300)):
    "Real LiDAR object segments: the points of a KITTI frame nearest to a car-sized spot, the smallest about 50 points, and a PCL car scan."
    from scipy.spatial import cKDTree
    pts = load_point_cloud(shared_data / 'kitti/train/sequences/00/velodyne/000000.bin')['points']
    near = pts[np.linalg.norm(pts[:, :2], axis=1) < 20]
    tree, rng = cKDTree(near), np.random.default_rng(0)
    out = {f'kitti_{n}': near[tree.query(near[rng.integers(len(near))], k=n)[1]] for n in sizes}
    out['pcl_car6'] = load_point_cloud(shared_data / 'pcl_scans' / 'car6.pcd')['points']
    return out

def test_real_segments_with_repeated_points(shared_data):
    "Real LiDAR segments brought to 1,024 points by repeating them (what a fixed-size pipeline does), and the raw 20-point segment: the teacher and the shipped students embed them, with the same tokens on both back-ends."
    from foundry_nb.teacher import load_teacher
    from foundry_nb.student import embedded_student
    teacher, students = load_teacher(), [embedded_student(n) for n in ('s1', 's16', 'gate_s16')]
    for name, seg in _segments(shared_data).items():
        seg = Normalize()(dict(points=seg.astype(np.float32)))['points']
        for x in (np.resize(seg, (1024, 3)), seg):                  # repeated to 1,024, and as it is (fewer points than groups when small)
            x = torch.from_numpy(np.ascontiguousarray(x))[None]
            toks = {}
            for be in ('cpu', 'torch'):
                teacher.tokenizer.backend = be
                with torch.no_grad(): toks[be] = teacher.tokens(x, torch.Generator().manual_seed(0))
            teacher.tokenizer.backend = 'auto'
            assert torch.equal(toks['cpu'][0], toks['torch'][0]) and torch.equal(toks['cpu'][1], toks['torch'][1]), name
            with torch.no_grad():
                assert torch.isfinite(teacher.pooled(teacher.encode(*toks['cpu']))).all(), name
                for st in students: assert torch.isfinite(st.pooled(x, torch.Generator().manual_seed(0))).all(), (name, st.cfg.s)
