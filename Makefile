# foundry-nb: the two commands of the README.
#   make reproduce   set up (if needed) and run the main job
#   make test        set up (if needed) and run the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
LOG := $(VENV)/install.log
export OMP_NUM_THREADS ?= 2
# the synthetic benchmark of `make students` and `make pretrain`: easy (the shipped defaults) or hard (frozen, with headroom)
BENCHMARK ?= easy
# the benchmark of the main job and its convergence check
BENCHMARK_MAIN ?= hard
# the venv first on PATH: the jupyter kernel that papermill starts ("python") must be the venv's
export PATH := $(BIN):$(PATH)

.PHONY: setup reproduce reproduce-modelnet10 convergence paper students pretrain pretrain-check results book docs test lab paper-students paper-ablations paper-fewshot paper-transfer paper-efficiency
setup: $(STAMP)

# torch is installed first and pinned (any other torch spec pulls gigabytes of CUDA packages), then the project.
$(STAMP): settings.ini setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "foundry-nb needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	@echo "installing torch==2.13.0, then foundry-nb[dev] (log: $(LOG))"
	@$(BIN)/pip install torch==2.13.0 >$(LOG) 2>&1 || (tail -30 $(LOG); exit 1)
	@$(BIN)/pip install -e ".[dev]" >>$(LOG) 2>&1 || (tail -30 $(LOG); exit 1)
	@touch $@

# --log-output streams each notebook's printed lines (per-row progress with elapsed time and an estimate of what remains)
PM := $(BIN)/papermill --cwd nbs --log-output --no-progress-bar

# The main job: the paper's ablations on the frozen hard benchmark, a final run on its test split (s in {1, 16} x {DSO, K-Means, FPS,
# ToMe, random assignment} x 3 seeds, the residual-off sweep, a gated student and the controls, all at one budget, whose
# convergence `make convergence` checks on validation),
# reusing the shipped teacher_hard; executed by papermill into runs/ (its outputs then shown by the chapter in nbs/), figures and
# metrics JSON into figures/, then the README's results regenerated. Resumable: run it again after an interruption.
reproduce: setup
	@mkdir -p runs figures
	$(PM) nbs/ablations.ipynb runs/ablations_hard.ipynb -p final True
	$(BIN)/python -m foundry_nb.report --outputs runs/ablations_hard.ipynb nbs/ablations.ipynb
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# The same main job on real ModelNet10 (its official test split; DATA: the packed .npz or the ModelNet10/ folder), with the real teacher:
# the students and probes train on 36 shapes per category of its train split (360, the hard benchmark's count: the same 330 steps per model);
# the grid at s = 16 only (every compressor, DSO in the paper's form, 3 seeds, the controls); the residual sweep and the gate stay on the hard benchmark.
reproduce-modelnet10: setup
	@if [ ! -e "$(DATA)" ]; then echo "make reproduce-modelnet10 needs the data: DATA=$(DATA) does not exist; pass DATA=<modelnet10_sampled2048_f16.npz or the ModelNet10/ folder of .off meshes>"; exit 2; fi
	@mkdir -p runs figures
	$(PM) nbs/ablations.ipynb runs/ablations_modelnet10.ipynb -p final True -p dataset modelnet10 -p data_root $(abspath $(DATA)) -p n_per_class 36 -y "{s_list: [16], residual_off_s: [], gate_s: 0}"
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# Is the main job's schedule converged? On the VALIDATION split: one seed of each compressor for the main job's epochs and for 4x as
# long, the teacher's fine-tuning for 3x as long (figures/convergence_hard.json, read by the next `make reproduce`; resumable).
convergence: setup
	@mkdir -p runs figures
	$(BIN)/python scripts/convergence.py $(BENCHMARK_MAIN)

# The other paper notebooks: final runs on the hard benchmark's test split (transfer and few-shot: 3 training runs each, at the main
# job's budget; measured on 2 cores: transfer 17 min, few-shot 40), and efficiency (about 8). Below, the pipeline that made the shipped students.
paper: setup
	@mkdir -p runs figures
	$(PM) nbs/efficiency.ipynb runs/efficiency.ipynb
	$(BIN)/python -m foundry_nb.report --outputs runs/efficiency.ipynb nbs/efficiency.ipynb
	$(PM) nbs/transfer.ipynb runs/transfer_hard.ipynb -p final True
	$(BIN)/python -m foundry_nb.report --outputs runs/transfer_hard.ipynb nbs/transfer.ipynb
	$(PM) nbs/fewshot.ipynb runs/fewshot_hard.ipynb -p final True
	$(BIN)/python -m foundry_nb.report --outputs runs/fewshot_hard.ipynb nbs/fewshot.ipynb
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# `make students DATASET=modelnet10 DATA=...` distils student_modelnet10_s16.pt of the real teacher on ModelNet10's train split (20 epochs of 2 views:
# about the hard students' steps), scored on its official test split.
# The shipped students (resumable): `make students` distils s1/s4/s16/gate_s16 of the embedded teacher on the easy benchmark
# (with the tokenizer benchmark first); `make students BENCHMARK=hard` distils student_hard_{s1,s16,gate_s16}.pt of teacher_hard.pt
# on the frozen hard benchmark, with the s = 0 and global-vector controls at the same budget (measured: 23 min of training, about 30 in all, on 2 CPU cores).
students: setup
	@mkdir -p runs figures
	@case "$(BENCHMARK)" in easy|hard) ;; *) echo "BENCHMARK must be easy or hard, got '$(BENCHMARK)'"; exit 2;; esac
	@case "$(DATASET)" in synthetic|modelnet10) ;; *) echo "DATASET must be synthetic or modelnet10, got '$(DATASET)'"; exit 2;; esac
	@if [ "$(DATASET)" = modelnet10 ] && [ ! -e "$(DATA)" ]; then echo "make students DATASET=modelnet10 needs the data: DATA=$(DATA) does not exist; pass DATA=<modelnet10_sampled2048_f16.npz or the ModelNet10/ folder of .off meshes>"; exit 2; fi
ifeq ($(DATASET),modelnet10)
	$(PM) nbs/distill.ipynb runs/distill_modelnet10.ipynb -p dataset modelnet10 -p data_root $(abspath $(DATA)) -p s_list "[16]" -p gated_s 0 -p train_controls False -p epochs 20
	$(BIN)/python -m foundry_nb.report --outputs runs/distill_modelnet10.ipynb nbs/distill.ipynb
else ifeq ($(BENCHMARK),easy)
	$(PM) nbs/benchmark_tokenizer.ipynb runs/benchmark_tokenizer.ipynb
	$(BIN)/python -m foundry_nb.report --outputs runs/benchmark_tokenizer.ipynb nbs/benchmark_tokenizer.ipynb
	$(PM) nbs/distill.ipynb runs/distill.ipynb
	$(BIN)/python -m foundry_nb.report --outputs runs/distill.ipynb nbs/distill.ipynb
else
	$(PM) nbs/distill.ipynb runs/distill_$(BENCHMARK).ipynb -p benchmark $(BENCHMARK) -p s_list "[1, 16]"
	$(BIN)/python -m foundry_nb.report --outputs runs/distill_$(BENCHMARK).ipynb nbs/distill.ipynb
endif
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# The paper's scale (real data in the official layouts, a released Point-JEPA checkpoint, a GPU): edit the paths in
# params/paper_*.yaml first (params/README.md). `make paper-students` distils the students that paper-fewshot and
# paper-transfer use; each writes its JSON and figures to figures/paper/ and the results section to figures/paper/RESULTS.md.
paper-students: setup
	@mkdir -p runs/paper figures/paper
	$(PM) -f params/paper_distill.yaml nbs/distill.ipynb runs/paper/distill.ipynb

paper-ablations paper-fewshot paper-transfer paper-efficiency: paper-%: setup
	@mkdir -p runs/paper figures/paper
	$(PM) -f params/paper_$*.yaml nbs/$*.ipynb runs/paper/$*.ipynb
	$(BIN)/python -m foundry_nb.report --results figures/paper figures/paper/RESULTS.md

# Re-create a shipped teacher (masked point modelling + InfoNCE, nbs/pretrain_teacher.ipynb; resumable; device=auto), a final run:
#   make pretrain                                    the embedded teacher (synthetic benchmark)
#   make pretrain DATASET=modelnet10 DATA=PATH       the real one (PATH: modelnet10_sampled2048_f16.npz or the ModelNet10/ folder of .off meshes;
#                                                    about 85 min of training and 20 of probes on 2 CPU cores)
#   make pretrain BENCHMARK=hard                     the teacher of the frozen hard synthetic benchmark (teacher_hard.pt; about 55 min of training on 2 CPU cores)
# VAL=1 scores the validation split instead (the run every choice is made on; figures/pretrain_teacher*_val.json).
DATASET ?= synthetic
DATA ?= ../shared/data/modelnet10/modelnet10_sampled2048_f16.npz
VAL ?=
pretrain: setup
	@case "$(DATASET)" in synthetic|modelnet10) ;; *) echo "DATASET must be synthetic or modelnet10, got '$(DATASET)'"; exit 2;; esac
	@if [ "$(DATASET)" = modelnet10 ] && [ ! -e "$(DATA)" ]; then echo "make pretrain DATASET=modelnet10 needs the data: DATA=$(DATA) does not exist; pass DATA=<modelnet10_sampled2048_f16.npz or the ModelNet10/ folder of .off meshes>"; exit 2; fi
	@mkdir -p runs figures
	@case "$(BENCHMARK)" in easy|hard) ;; *) echo "BENCHMARK must be easy or hard, got '$(BENCHMARK)'"; exit 2;; esac
	$(PM) nbs/pretrain_teacher.ipynb runs/pretrain_teacher_$(DATASET)_$(BENCHMARK).ipynb -p dataset $(DATASET) -p benchmark $(BENCHMARK) -p data_root $(abspath $(DATA)) $(if $(VAL),,-p final True)
	$(BIN)/python -m foundry_nb.report --outputs runs/pretrain_teacher_$(DATASET)_$(BENCHMARK).ipynb nbs/pretrain_teacher.ipynb
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# Re-create the shipped teacher on this machine (same recipe and seed; DEVICE=auto|cpu|cuda, default auto) without touching
# it, probe the shipped one in the same run, and compare them probe by probe (figures/pretrain_teacher_recreated.json).
# About 25 min of training plus 15 min of probes on 2 CPU cores; resumable (run it again after an interruption).
DEVICE ?= auto
pretrain-check: setup
	@mkdir -p runs/recreate figures
	$(PM) nbs/pretrain_teacher.ipynb runs/recreate/pretrain_teacher.ipynb -p device $(DEVICE) -p asset_path ../runs/recreate/teacher_tiny.pt \
	  -p run_dir ../runs/recreate/pretrain -p out_name pretrain_teacher_recreated -p reference_teacher ../foundry_nb/assets/teacher_tiny.pt -p final True -p half_asset False
	$(BIN)/python -m foundry_nb.report --outputs runs/recreate/pretrain_teacher.ipynb nbs/pretrain_teacher.ipynb
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

results: setup
	$(BIN)/python -m foundry_nb.report README.md figures
	$(BIN)/nbdev_clean

# Execute every chapter in place (its outputs are committed: a reader sees them without running anything), then clean.
book: setup
	cd nbs && for nb in [0-9]*.ipynb index.ipynb; do echo "executing $$nb"; OMP_NUM_THREADS=$(OMP_NUM_THREADS) $(BIN)/jupyter nbconvert --to notebook --execute --inplace --log-level=WARN --ExecutePreprocessor.timeout=1800 $$nb || exit 1; done
	$(BIN)/python -m foundry_nb.report --strip-stderr nbs/[0-9]*.ipynb nbs/index.ipynb
	$(BIN)/python -m foundry_nb.report --stamp nbs/[0-9]*.ipynb nbs/index.ipynb
	$(BIN)/nbdev_clean

# The book: the committed, executed notebooks rendered by Sphinx + MyST-NB into _docs/ (nothing re-executed; works offline).
docs: setup
	$(BIN)/sphinx-build -b html -q -W --keep-going nbs _docs
	@echo "open _docs/index.html"

# The whole test suite: library in sync with the notebooks, notebooks clean, every notebook's tests, then pytest.
test: setup
	@before="$$(git status --porcelain)"; \
	 $(BIN)/nbdev_export && $(BIN)/nbdev_clean || exit 1; \
	 after="$$(git status --porcelain)"; \
	 if [ "$$before" != "$$after" ] || { [ -n "$$CI" ] && [ -n "$$after" ]; }; then \
	   echo "FAIL: nbdev_export/nbdev_clean changed the tree (library out of sync, notebooks not clean, or an untracked generated module):"; \
	   git status --porcelain; exit 1; fi
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	$(BIN)/python -m pytest tests -q

lab: setup
	$(BIN)/jupyter lab nbs
