# mk/figures.mk — `make figures`: the paper's figures and its two claims, re-measured (docs/reproducing-the-paper.md).
#
#   make -j2 figures             default sizes (about 2 hours on 2 cores; docs/reproducing-the-paper.md "Run time")
#   make figures SMOKE=1         tiny end-to-end check (a few minutes): results/smoke, figures/smoke
#   make figures FULL=1          all 10,570 SQuAD questions and all 872 SST-2 sentences
#   make figures MODEL_QA=csarron/roberta-base-squad-v1 MODEL_SST2=textattack/roberta-base-SST-2 FIG_RUN=roberta
#   make -j64 figures SLURM=1    every row and stream as a Slurm job (FIG_SHARDS=N: job arrays of N shards + merge);
#                                site options SLURM_PARTITION, SLURM_ACCOUNT, SLURM_TIME, SLURM_CPUS (docs/scaling.md)
#
# Every score is one spiqa-eval JSON row in its own file under results/<run>/, so make reruns only what changed.
# Changing a model, data file or sample size (results/<run>/<task>/{eval,hist,js}.settings) reruns what uses it.
# A rebuilt binary does NOT rerun anything (make figures-clean, or delete results/<run>, to start over); every row
# records the build that made it ("provenance") and results.md says when rows come from different builds.
# A second `make figures` runs no recipe at all (`make -q figures` exits 0; `make figures-test` checks it). Safe with -j2.

FIG_PYTHON  ?= $(or $(PYTHON),python3)
## FIG_BIN given (command line or environment): those binaries are used as they are, nothing is built (NO_BUILD=1).
ifneq ($(filter command line environment,$(origin FIG_BIN)),)
  NO_BUILD ?= 1
endif
FIG_BIN     ?= $(or $(BIN),.build/release)
FIG_SHARED  ?= $(or $(SHARED),../shared)
MODEL_QA    ?= $(FIG_SHARED)/models/minilm-squad
MODEL_SST2  ?= $(FIG_SHARED)/models/minilm-sst2
DATA_DIR    ?= $(FIG_SHARED)/data
SQUAD_JSON  ?= $(DATA_DIR)/squad/dev-v1.1.json
SST2_TSV    ?= $(DATA_DIR)/glue/SST-2/dev.tsv

## Sizes. SAMPLES_* = a number (Python-compatible random.seed(123); random.sample, as the paper's -sa) or "all".
ifeq ($(FULL),1)
  FIG_RUN      ?= full
  SAMPLES_QA   ?= all
  SAMPLES_SST2 ?= all
else ifeq ($(SMOKE),1)
  FIG_RUN        ?= smoke
  SAMPLES_QA     ?= 4
  SAMPLES_SST2   ?= 40
  SAMPLES_HIST   ?= 2
  SAMPLES_JS     ?= 1
  SAMPLES_HIST_SST2 ?= 40
  SAMPLES_JS_SST2 ?= 20
  SAMPLES_HS_SST2 ?= 8
  FIG_THRESHOLDS ?= 0 1e-3 1e-2 1e-1
  FIG_BITS       ?= 1 2 3 8 16
  FIG_JS_BITS    ?= 2 3
else
  FIG_RUN      ?= default
  SAMPLES_QA   ?= 1000
  SAMPLES_SST2 ?= all
endif
SAMPLES_HIST      ?= 100
SAMPLES_HIST_SST2 ?= all
SAMPLES_JS        ?= 10
SAMPLES_JS_SST2   ?= 200
## Hidden-state histograms (figure i, reference §3.6 -hs): SST-2 sentences whose hidden states are binned.
SAMPLES_HS_SST2   ?= 100
## Pruning sweep: 0 (exact) and a log sweep 1e-4 … 1e-1, finer (5e-3, 5e-2) around the paper's 80 % claim.
FIG_THRESHOLDS ?= 0 1e-4 3e-4 1e-3 3e-3 5e-3 1e-2 3e-2 5e-2 1e-1
## Quantizers of panel (d): linear, linear-pruned, log, log-pruned, and the three uniform (data-dependent) ones;
## boolean (binarization) has no bit width and is the 1-bit point.
FIG_METHODS ?= linear_slinear_midval linear_slinear_clamped_midval linear_slog_midval linear_slog_clamped_midval \
               uniform_slinear_clamped_mean uniform_slog_clamped_mean uniform_slog_mean
FIG_BITS    ?= 1 2 3 4 5 6 7 8 16
FIG_JS_BITS ?= 1 2 3 4 5 6 7 8
## Heads whose per-row spread is drawn (LAYER.HEAD).
FIG_ROW_HEADS ?= 0.0 2.5 5.11
## Clamp-threshold sweep (figure g): pruning at T, then this quantizer at these bits, for each T. The log-pruned
## quantizer's own clamp (min_val = 1e-3) is hard-coded, as in the reference; T ≤ 1e-3 equals no extra pruning.
FIG_CLAMP_THRESHOLDS ?= $(if $(filter 1,$(SMOKE)),1e-3 1e-2 1e-1,1e-3 3e-3 5e-3 1e-2 3e-2 5e-2 1e-1)
FIG_CLAMP_METHOD     ?= linear_slog_clamped_midval
FIG_CLAMP_BITS       ?= 3
## Pretrained model of figure h (same examples as the distribution figures): the encoder the two were fine-tuned from.
MODEL_PRETRAINED ?= $(or $(MODEL_DIR),models/all-MiniLM-L6-v2)
## Masked LM (figure j, the reference's third case study): pseudo-perplexity of a *ForMaskedLM checkpoint on the
## first SAMPLES_MLM lines of DATA_MLM, against the pruning grid and FIG_MLM_BITS. On by default when MODEL_MLM is
## there: models/minilm-mlm is `make mlm-model`'s head fitted on the frozen encoder (needs torch; docs/evaluation.md).
## FIG_MLM=0 leaves it out, FIG_MLM=1 insists. A line of n tokens is n − 2 forward passes: 10 lines ≈ 1,200.
MODEL_MLM    ?= models/minilm-mlm
DATA_MLM     ?= $(MODEL_MLM)/heldout.txt
SAMPLES_MLM  ?= $(if $(filter 1,$(SMOKE)),1,10)
FIG_MLM_BITS ?= $(if $(filter 1,$(SMOKE)),2 3,1 2 3 4 8)
FIG_MLM      ?= $(if $(wildcard $(MODEL_MLM)/config.json),1,0)
## The panel's own rows and figure (not when mlm is one of FIG_TASKS: then it is a task like the others).
MLM_PANEL := $(if $(filter mlm,$(FIG_TASKS)),,$(filter 1,$(FIG_MLM)))

## Output folders (FIG_RESULTS / FIG_FIGURES move them elsewhere, e.g. the scratch folder of figures-test).
FIG_RESULTS ?= results/$(FIG_RUN)
FIG_FIGURES ?= figures/$(FIG_RUN)
R := $(FIG_RESULTS)
F := $(FIG_FIGURES)
FIG_SCRIPTS := scripts/figures
## Tasks of spiqa-eval's registry (`spiqa-eval --list-tasks`) to run. squad and sst2 have the paper's models and
## sizes below; any other registry task joins by name with its checkpoint, e.g.
##   make figures FIG_TASKS="squad sst2 mrpc" MODEL_mrpc=path/to/mrpc-checkpoint [DATA_mrpc=FILE] [SAMPLES_mrpc=N]
## (data: the task's file in the shared folder; sample sizes: SST-2's). Plot titles and metrics come from the registry.
FIG_TASKS ?= squad sst2

sel = $(if $(filter all,$(1)),,--samples $(1))
EVAL_ARGS_squad = --quiet --task squad --model $(MODEL_QA) --data $(SQUAD_JSON) $(call sel,$(SAMPLES_QA))
EVAL_ARGS_sst2  = --quiet --task sst2 --model $(MODEL_SST2) --data $(SST2_TSV) $(call sel,$(SAMPLES_SST2))
EXTRACT_ARGS_squad = --quiet --task squad --model $(MODEL_QA) --data $(SQUAD_JSON)
EXTRACT_ARGS_sst2  = --quiet --task sst2 --model $(MODEL_SST2) --data $(SST2_TSV)
EVAL_squad = $(FIG_BIN)/spiqa-eval $(EVAL_ARGS_squad)
EVAL_sst2  = $(FIG_BIN)/spiqa-eval $(EVAL_ARGS_sst2)
EXTRACT_squad = $(FIG_BIN)/spiqa-extract $(EXTRACT_ARGS_squad)
EXTRACT_sst2  = $(FIG_BIN)/spiqa-extract $(EXTRACT_ARGS_sst2)

## Per-task variables of any other registry task $(1) (see FIG_TASKS).
define OTHER_TASK_VARS
SAMPLES_$(1) ?= $$(SAMPLES_SST2)
SAMPLES_HIST_$(1) ?= $$(SAMPLES_HIST_SST2)
SAMPLES_JS_$(1) ?= $$(SAMPLES_JS_SST2)
DATA_ARG_$(1) = $$(if $$(DATA_$(1)),--data $$(DATA_$(1)))
EVAL_ARGS_$(1) = --quiet --task $(1) --model $$(MODEL_$(1)) $$(DATA_ARG_$(1)) $$(call sel,$$(SAMPLES_$(1)))
EXTRACT_ARGS_$(1) = --quiet --task $(1) --model $$(MODEL_$(1)) $$(DATA_ARG_$(1))
EVAL_$(1) = $$(FIG_BIN)/spiqa-eval $$(EVAL_ARGS_$(1))
EXTRACT_$(1) = $$(FIG_BIN)/spiqa-extract $$(EXTRACT_ARGS_$(1))
SETTINGS_$(1)_eval = model=$$(MODEL_$(1)) data=$$(DATA_$(1)) samples=$$(SAMPLES_$(1))
SETTINGS_$(1)_hist = model=$$(MODEL_$(1)) data=$$(DATA_$(1)) samples=$$(SAMPLES_HIST_$(1))
SETTINGS_$(1)_js = model=$$(MODEL_$(1)) data=$$(DATA_$(1)) samples=$$(SAMPLES_JS_$(1))
SETTINGS_$(1)_pre = model=$$(MODEL_PRETRAINED) data=$$(DATA_$(1)) samples=$$(SAMPLES_HIST_$(1))
SETTINGS_$(1)_grid = thresholds=$$(FIG_THRESHOLDS)
MODEL_$(1)_ARG = --model $$(MODEL_$(1))
CAPTION_$(1) = $(1) · $$(notdir $$(MODEL_$(1))) · exact attention of $$(SAMPLES_HIST_$(1)) sentences$$(if $$(filter all,$$(SAMPLES_HIST_$(1))),, (random.sample, seed 123))
endef
$(foreach t,$(filter-out squad sst2,$(FIG_TASKS)),$(if $(MODEL_$(t)),,$(error FIG_TASKS has $(t): give its checkpoint as MODEL_$(t)=DIR))\
  $(eval $(call OTHER_TASK_VARS,$(t))))

## SLURM=1: each row, stream and table below runs as a Slurm job (scripts/slurm/submit.sh: sbatch --wait); make -jN
## keeps N jobs in the queue. Outputs are written atomically, so a failed or cancelled job leaves no target and the
## next make resubmits just that one. FIG_SHARDS=N (N > 1) runs eval rows and attention streams as a job array of N
## shards plus a dependent merge job (scripts/slurm/sharded.sh); the merged row and stream equal the unsharded ones.
FIG_SHARDS ?= 1
ifeq ($(SLURM),1)
  export SLURM_PARTITION SLURM_ACCOUNT SLURM_TIME SLURM_CPUS SLURM_EXTRA
  SUBMIT = scripts/slurm/submit.sh $(R)/slurm/$(subst /,_,$(patsubst $(R)/%,%,$@)).log --
  SHARDED = $(if $(filter-out 0 1,$(FIG_SHARDS)),1)
endif
SHARDED_SH = SPIQA_BIN=$(FIG_BIN) SHARDED_HIST=0 SHARDED_FAILURE_ROWS=1 scripts/slurm/sharded.sh
## An eval row: $(call eval_row,<task>,<flags>) (the target is $@; its per-example lines go beside it).
eval_row = $(if $(SHARDED),$(SHARDED_SH) eval $(FIG_SHARDS) $(@:.json=.shards) -- $(EVAL_ARGS_$(1)) $(2) \
  && mv $(@:.json=.shards)/examples.jsonl $(@:.json=.examples.jsonl) && mv $(@:.json=.shards)/result.json $@ \
  && $(EVAL_ROW) --stamp $@ -- $(FIG_BIN)/spiqa-eval,\
  $(SUBMIT) $(EVAL_ROW) $@ -- $(EVAL_$(1)) $(2) --per-example $(@:.json=.examples.jsonl))
## An attention stream: $(call extract_stream,<task>,<flags>).
extract_stream = $(if $(SHARDED),$(SHARDED_SH) extract $(FIG_SHARDS) $@.shards -- $(EXTRACT_ARGS_$(1)) $(2) \
  && mv $@.shards/attention.npy.gz $@,$(SUBMIT) $(EXTRACT_$(1)) $(2) --output $@)
## What each kind of output depends on besides its recipe; see the *.settings rule.
SETTINGS_squad_eval = model=$(MODEL_QA) data=$(SQUAD_JSON) samples=$(SAMPLES_QA)
SETTINGS_squad_hist = model=$(MODEL_QA) data=$(SQUAD_JSON) samples=$(SAMPLES_HIST)
SETTINGS_squad_js   = model=$(MODEL_QA) data=$(SQUAD_JSON) samples=$(SAMPLES_JS)
SETTINGS_sst2_eval  = model=$(MODEL_SST2) data=$(SST2_TSV) samples=$(SAMPLES_SST2)
SETTINGS_sst2_hist  = model=$(MODEL_SST2) data=$(SST2_TSV) samples=$(SAMPLES_HIST_SST2)
SETTINGS_sst2_js    = model=$(MODEL_SST2) data=$(SST2_TSV) samples=$(SAMPLES_JS_SST2)
SETTINGS_squad_pre  = model=$(MODEL_PRETRAINED) data=$(SQUAD_JSON) samples=$(SAMPLES_HIST)
SETTINGS_sst2_pre   = model=$(MODEL_PRETRAINED) data=$(SST2_TSV) samples=$(SAMPLES_HIST_SST2)
SETTINGS_sst2_hs    = model=$(MODEL_SST2) data=$(SST2_TSV) samples=$(SAMPLES_HS_SST2)
SETTINGS_squad_grid = thresholds=$(FIG_THRESHOLDS)
SETTINGS_sst2_grid  = thresholds=$(FIG_THRESHOLDS)
SETTINGS_mlm_eval   = model=$(MODEL_MLM) data=$(DATA_MLM) samples=$(SAMPLES_MLM)
## The settings files written below: those of FIG_TASKS, and the masked LM's when its panel is on.
SETTINGS_TASKS = $(FIG_TASKS) $(if $(MLM_PANEL),mlm)

ROWS_threshold = $(foreach t,$(FIG_TASKS),$(foreach x,$(FIG_THRESHOLDS),$(R)/$(t)/threshold/$(x).json))
ROWS_bits = $(foreach t,$(FIG_TASKS),$(foreach m,$(FIG_METHODS),$(foreach b,$(FIG_BITS),$(R)/$(t)/bits/$(m)/$(b).json)) \
              $(R)/$(t)/bits/binarization/1.json)
ROWS_js = $(foreach t,$(FIG_TASKS),$(foreach m,$(FIG_METHODS),$(foreach b,$(FIG_JS_BITS),$(R)/$(t)/js/$(m)/$(b).json)) \
            $(R)/$(t)/js/binarization/1.json)
ROWS_clamp = $(foreach t,$(FIG_TASKS),$(foreach x,$(FIG_CLAMP_THRESHOLDS),\
               $(R)/$(t)/clamp/$(FIG_CLAMP_METHOD)/$(FIG_CLAMP_BITS)/$(x).json))
ROWS_mlm = $(if $(MLM_PANEL),$(foreach x,$(FIG_THRESHOLDS),$(R)/mlm/threshold/$(x).json) \
             $(foreach m,$(FIG_METHODS),$(foreach b,$(FIG_MLM_BITS),$(R)/mlm/bits/$(m)/$(b).json)) \
             $(R)/mlm/bits/binarization/1.json)
FIG_ROWS = $(ROWS_threshold) $(ROWS_bits) $(ROWS_mlm)

fig = $(F)/$(1).png $(F)/$(1).pdf
FIGURES = $(foreach t,$(FIG_TASKS),$(call fig,a_hist_grid_$(t)) \
            $(foreach lh,$(FIG_ROW_HEADS),$(call fig,a_row_spread_$(t)_L$(basename $(lh))_H$(subst .,,$(suffix $(lh))))) \
            $(call fig,b_sparsity_1e-3_$(t)) $(call fig,d_bits_$(t))) \
          $(call fig,c_score_vs_threshold) $(call fig,c_score_vs_sparsity) $(call fig,e_js_distance)
## Analysis figures: head consistency (f), per-head sparsity against the threshold grid (f), the clamp-threshold
## sweep of the log quantizer (g), pretrained against fine-tuned attention (h), hidden-state histograms (i).
ANALYSIS_FIGURES = $(foreach t,$(FIG_TASKS),$(call fig,f_head_consistency_$(t)) $(call fig,f_sparsity_vs_threshold_$(t)) \
                     $(call fig,h_pretrained_vs_finetuned_$(t))) $(call fig,g_clamp_sweep) $(call fig,i_hidden_states_sst2) \
                   $(if $(MLM_PANEL),$(call fig,j_masked_lm))

.PHONY: figures figures-setup figures-tools figures-rows figures-claims figures-clean figures-test
.DELETE_ON_ERROR:
## No file of the pipeline is ever deleted as an "intermediate" (a deleted stream or table would rerun its users).
.SECONDARY:

## figures: every figure (PNG + PDF) under figures/<run>/ and the results tables (docs/results.md, not for SMOKE).
## No recipe of its own: when everything is up to date make says "Nothing to be done" and `make -q figures` is 0.
figures: figures-setup $(FIGURES) $(ANALYSIS_FIGURES) $(R)/results.md $(if $(filter smoke,$(FIG_RUN)),,docs/results.md)

## figures-setup: numpy and matplotlib for the plots, installed with pip when missing. Checked while make reads this
## file (only for figures goals), so when both are present the target has no recipe and reruns nothing.
FIG_GOALS := $(filter figures figures-setup figures-rows figures-claims $(R)/% $(F)/% docs/results.md,$(MAKECMDGOALS))
## The plot scripts read the task set and the registry through these (only for figures goals: other recipes, e.g.
## python-test, must not see them).
ifneq ($(FIG_GOALS),)
  export FIG_TASKS
  export SPIQA_EVAL = $(FIG_BIN)/spiqa-eval
endif
ifneq ($(FIG_GOALS)$(filter figures-test,$(MAKECMDGOALS)),)
  FIG_HAVE_PLOT := $(shell $(FIG_PYTHON) -c 'import numpy, matplotlib' >/dev/null 2>&1 && echo yes)
endif
figures-setup:
ifneq ($(FIG_HAVE_PLOT),yes)
	@echo "figures-setup: installing numpy and matplotlib for $(FIG_PYTHON)"
	PIP_ROOT_USER_ACTION=ignore $(FIG_PYTHON) -m pip install -q numpy matplotlib
endif

## figures-rows: only the spiqa-eval result rows (no plotting). figures-claims: the rows behind the two claims
## (the pruning sweep, log-pruned at 2 and 3 bits), first; then results/<run>/results.md from whatever rows exist.
figures-rows: $(FIG_ROWS)
CLAIM_ROWS = $(ROWS_threshold) $(foreach t,$(FIG_TASKS),$(foreach b,2 3,$(R)/$(t)/bits/linear_slog_clamped_midval/$(b).json))
figures-claims: $(CLAIM_ROWS)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/results_md.py $(R) --expected-rows $(words $(FIG_ROWS)) --output $(R)/results.md

## The tools are built once per make run (swift build is incremental); NO_BUILD=1 uses the binaries as they are.
figures-tools:
ifneq ($(NO_BUILD),1)
	$(or $(SWIFT),swift) build -c $(or $(CONFIG),release)
endif

figures-clean:
	rm -rf $(R) $(F)

## figures-test: `make figures SMOKE=1` twice into a scratch folder; fails if the second run executes any recipe or
## changes any file (scripts/figures/test_rerun.sh). Uses SPIQA_BIN, else FIG_BIN, else .build/release; skips,
## saying why, without ../shared, the tools or numpy/matplotlib.
figures-test: figures-setup
	scripts/figures/test_rerun.sh $(or $(SPIQA_BIN),$(FIG_BIN)) $(abspath $(FIG_SHARED)) $(FIG_PYTHON)

## <task>/{eval,hist,js}.settings is rewritten (and reruns what depends on it) only when a model, data file or
## sample size changes. It is written while make reads this file (for figures goals only), not by a rule: a rule
## forced to run every time (the old FORCE prerequisite) made `make -q` / `make -n` report every row as out of date.
## With -n or -q (a dry run) nothing is written: a settings file whose text would change is instead made to depend on
## a phony target, so make -n lists it and everything that would rerun, and make -q exits 1.
FIG_DRY_RUN := $(if $(findstring n,$(firstword -$(MAKEFLAGS))),1,$(if $(findstring q,$(firstword -$(MAKEFLAGS))),1))
write_settings = $(shell mkdir -p $(dir $(1)) && { printf '%s\n' '$(2)' | cmp -s - $(1) || printf '%s\n' '$(2)' > $(1); })
stale_settings = $(shell printf '%s\n' '$(2)' | cmp -s - $(1) 2>/dev/null || echo $(1))
ifneq ($(FIG_GOALS),)
  ifeq ($(filter figures-clean,$(MAKECMDGOALS)),)
    ifeq ($(FIG_DRY_RUN),1)
      FIG_STALE_SETTINGS := $(foreach t,$(SETTINGS_TASKS),$(foreach k,eval hist js pre grid hs,$(if $(SETTINGS_$(t)_$(k)),\
        $(call stale_settings,$(R)/$(t)/$(k).settings,$(SETTINGS_$(t)_$(k))))))
    else
      $(foreach t,$(SETTINGS_TASKS),$(foreach k,eval hist js pre grid hs,$(if $(SETTINGS_$(t)_$(k)),\
        $(call write_settings,$(R)/$(t)/$(k).settings,$(SETTINGS_$(t)_$(k))))))
    endif
  endif
endif
.PHONY: figures-settings-changed
figures-settings-changed:
$(FIG_STALE_SETTINGS): figures-settings-changed
## Fallback when a settings file is missing anyway (e.g. `make figures-clean figures`): made once, then up to date.
$(R)/%.settings:
	@mkdir -p $(@D)
	@printf '%s\n' '$(SETTINGS_$(subst /,_,$*))' > $@

EVAL_ROW = $(FIG_PYTHON) $(FIG_SCRIPTS)/eval_row.py
method_of = $(patsubst %/,%,$(dir $(1)))

## Per task ($(1) = squad or sst2): result rows, attention streams, the JS reports and the bits figure.
define TASK_RULES
## (c) one spiqa-eval row per pruning threshold: results/<run>/<task>/threshold/<t>.json.
$(R)/$(1)/threshold/%.json: $(R)/$(1)/eval.settings | figures-tools
	@mkdir -p $$(@D)
	$$(call eval_row,$(1),--threshold $$*)

## (d) one spiqa-eval row per quantizer and bit width: results/<run>/<task>/bits/<method>/<bits>.json.
$(R)/$(1)/bits/%.json: $(R)/$(1)/eval.settings | figures-tools
	@mkdir -p $$(@D)
	$$(call eval_row,$(1),--method $$(call method_of,$$*) --bits $$(notdir $$*))

## (e) spiqa-quantize --js report per quantizer and bit width, on exact attention (scope: example).
$(R)/$(1)/js/%.json: $(R)/$(1)/attention-js.npy.gz | figures-tools
	@mkdir -p $$(@D)
	$$(SUBMIT) $$(EVAL_ROW) --report $$@ -- $(FIG_BIN)/spiqa-quantize $$< --quiet --js --method $$(call method_of,$$*) \
	  --bits $$(notdir $$*) --output - --no-gzip --report $$@

## Attention streams (exact attention): distribution and sparsity figures; a smaller sample for the JS reports.
$(R)/$(1)/attention.npy.gz: $(R)/$(1)/hist.settings | figures-tools
	$$(call extract_stream,$(1),$$(call sel,$$(SAMPLES_HIST_$(1))))
$(R)/$(1)/attention-js.npy.gz: $(R)/$(1)/js.settings | figures-tools
	$$(call extract_stream,$(1),$$(call sel,$$(SAMPLES_JS_$(1))))

## (g) clamp-threshold sweep: pruning at T, then FIG_CLAMP_METHOD at FIG_CLAMP_BITS: clamp/<method>/<bits>/<T>.json.
$(R)/$(1)/clamp/%.json: $(R)/$(1)/eval.settings | figures-tools
	@mkdir -p $$(@D)
	$$(call eval_row,$(1),--threshold $$(notdir $$*) --method $$(notdir $$(patsubst %/,%,$$(dir $$(patsubst %/,%,$$(dir $$*))))) \
	  --bits $$(notdir $$(patsubst %/,%,$$(dir $$*))))

## (h) the pretrained encoder's exact attention on the same examples as attention.npy.gz (spiqa-hist as below).
$(R)/$(1)/pretrained/attention.npy.gz: $(R)/$(1)/pre.settings | figures-tools
	@mkdir -p $$(@D)
	$$(SUBMIT) $(FIG_BIN)/spiqa-extract $$(subst $$(MODEL_$(1)_ARG),--model $$(MODEL_PRETRAINED),$$(EXTRACT_ARGS_$(1))) \
	  $$(call sel,$$(SAMPLES_HIST_$(1))) --output $$@

## (f) per-head fraction ≤ t for every t of the pruning grid.
$(R)/$(1)/heads-thresholds.tsv: $(R)/$(1)/attention.npy.gz $(R)/$(1)/grid.settings | figures-tools
	$$(SUBMIT) bash -c '$(FIG_BIN)/spiqa-hist $$< --quiet --no-row-stats --table heads \
	  --thresholds $$(subst $$(space),$$(comma),$$(strip $$(filter-out 0,$$(FIG_THRESHOLDS)))) > $$@.tmp' && mv $$@.tmp $$@

$(F)/f_head_consistency_$(1).png $(F)/f_head_consistency_$(1).pdf &: $(R)/$(1)/head-stats.npz $(R)/$(1)/hist.npy \
    $(R)/$(1)/threshold/0.json $(FIG_SCRIPTS)/plot_heads.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $$(@D)
	$$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_heads.py consistency $(R) $(1) $(F)/f_head_consistency_$(1)
$(F)/f_sparsity_vs_threshold_$(1).png $(F)/f_sparsity_vs_threshold_$(1).pdf &: $(R)/$(1)/heads-thresholds.tsv \
    $(R)/$(1)/threshold/0.json $(FIG_SCRIPTS)/plot_heads.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $$(@D)
	$$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_heads.py thresholds $(R) $(1) $(F)/f_sparsity_vs_threshold_$(1)
$(F)/h_pretrained_vs_finetuned_$(1).png $(F)/h_pretrained_vs_finetuned_$(1).pdf &: $(R)/$(1)/head-stats.npz \
    $(R)/$(1)/hist.npy $(R)/$(1)/pretrained/head-stats.npz $(R)/$(1)/pretrained/hist.npy $(R)/$(1)/threshold/0.json \
    $(FIG_SCRIPTS)/plot_heads.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $$(@D)
	$$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_heads.py pretrained $(R) $(1) $(F)/h_pretrained_vs_finetuned_$(1)

## (d) also draws the exact-attention row (threshold 0) as the dashed baseline, so it depends on that row too.
$(F)/d_bits_$(1).png $(F)/d_bits_$(1).pdf &: $$(filter $(R)/$(1)/%,$$(ROWS_bits)) $(R)/$(1)/threshold/0.json \
    $(FIG_SCRIPTS)/plot_bits.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $$(@D)
	$$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_bits.py $(R) $(1) $(F)/d_bits_$(1)
endef
MODEL_squad_ARG = --model $(MODEL_QA)
MODEL_sst2_ARG = --model $(MODEL_SST2)
comma := ,
space := $(subst ,, )
SAMPLES_HIST_squad = $(SAMPLES_HIST)
SAMPLES_HIST_sst2 = $(SAMPLES_HIST_SST2)
SAMPLES_JS_squad = $(SAMPLES_JS)
SAMPLES_JS_sst2 = $(SAMPLES_JS_SST2)
$(foreach t,$(FIG_TASKS),$(eval $(call TASK_RULES,$(t))))


## spiqa-hist: histograms, thresholds (1e-3 among them), per-row spreads (+ the per-head / per-layer tables).
$(R)/%/hist.npy: $(R)/%/attention.npy.gz | figures-tools
	$(SUBMIT) bash -c '$(FIG_BIN)/spiqa-hist $< --quiet --npy $@.tmp.npy > $(@D)/heads.tsv'
	$(SUBMIT) bash -c '$(FIG_BIN)/spiqa-hist $< --quiet --no-row-stats --table layers > $(@D)/layers.tsv'
	mv $@.tmp.npy $@

## The hist agent's plot scripts, with a caption naming task, model and sample (scripts/figures/captioned.py).
CAPTIONED = $(FIG_SCRIPTS)/captioned.py
CAPTION_squad = SQuAD v1.1 dev · $(notdir $(MODEL_QA)) · exact attention of $(SAMPLES_HIST) questions$(if $(filter all,$(SAMPLES_HIST)),, (random.sample, seed 123))
CAPTION_sst2 = SST-2 dev · $(notdir $(MODEL_SST2)) · exact attention of $(SAMPLES_HIST_SST2) sentences$(if $(filter all,$(SAMPLES_HIST_SST2)),, (random.sample, seed 123))

## (a) distribution: layer × head histograms with CDF; per-row spread of the chosen heads.
$(F)/a_hist_grid_%.png $(F)/a_hist_grid_%.pdf: $(R)/%/hist.npy scripts/plot_hist_grid.py $(CAPTIONED)
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(CAPTIONED) "$(CAPTION_$*)" scripts/plot_hist_grid.py $< $(F)/a_hist_grid_$*

# a_row_spread_<task>_L<layer>_H<head>
define ROW_SPREAD_RULE
$(F)/a_row_spread_$(1)_L$(2)_H$(3).png $(F)/a_row_spread_$(1)_L$(2)_H$(3).pdf &: $(R)/$(1)/hist.npy \
    scripts/plot_row_spread.py $(CAPTIONED)
	@mkdir -p $$(@D)
	$(FIG_PYTHON) $(CAPTIONED) "$(CAPTION_$(1))" scripts/plot_row_spread.py $$< $(F)/a_row_spread_$(1)_L$(2)_H$(3) \
	  --layer $(2) --head $(3)
endef
$(foreach t,$(FIG_TASKS),$(foreach lh,$(FIG_ROW_HEADS),\
  $(eval $(call ROW_SPREAD_RULE,$(t),$(basename $(lh)),$(subst .,,$(suffix $(lh)))))))

## (b) per-head sparsity at the 1e-3 threshold (fraction of values ≤ 1e-3 = zeros after pruning at 1e-3).
$(F)/b_sparsity_1e-3_%.png $(F)/b_sparsity_1e-3_%.pdf: $(R)/%/hist.npy scripts/plot_sparsity_grid.py $(CAPTIONED)
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(CAPTIONED) "$(CAPTION_$*)" scripts/plot_sparsity_grid.py $< $(F)/b_sparsity_1e-3_$* --threshold 1e-3

## (c) scores against the pruning threshold and against the achieved sparsity.
$(F)/c_score_vs_threshold.png $(F)/c_score_vs_threshold.pdf $(F)/c_score_vs_sparsity.png $(F)/c_score_vs_sparsity.pdf &: \
    $(ROWS_threshold) $(FIG_SCRIPTS)/plot_pruning.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_pruning.py $(R) $(F)

## (e) JS distance per method (and against bits), both tasks.
$(F)/e_js_distance.png $(F)/e_js_distance.pdf &: $(ROWS_js) $(FIG_SCRIPTS)/plot_js.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_js.py $(R) $(F)/e_js_distance

## Per-example, per-head sparsity at 1e-3 and row entropy of a stream (fine-tuned and pretrained): figures f and h.
$(R)/%/head-stats.npz: $(R)/%/attention.npy.gz $(FIG_SCRIPTS)/head_stats.py
	$(SUBMIT) $(FIG_PYTHON) $(FIG_SCRIPTS)/head_stats.py $< $@

## (g) the clamp-threshold sweep, both tasks.
$(F)/g_clamp_sweep.png $(F)/g_clamp_sweep.pdf &: $(ROWS_clamp) $(ROWS_threshold) $(FIG_SCRIPTS)/plot_heads.py \
    $(FIG_SCRIPTS)/rows.py
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_heads.py clamp $(R) $(F)/g_clamp_sweep

## (i) hidden states (reference §3.6 -hs): a stream with --hidden-states, spiqa-hist --hidden-states (100 linear
## bins over [-5, 5] per token; tables hs-hist.tsv), one panel per layer output.
$(R)/sst2/hidden-states.npy.gz: $(R)/sst2/hs.settings | figures-tools
	$(SUBMIT) $(EXTRACT_sst2) $(call sel,$(SAMPLES_HS_SST2)) --hidden-states --output $@
$(R)/sst2/hs-hist.npy: $(R)/sst2/hidden-states.npy.gz | figures-tools
	$(SUBMIT) bash -c '$(FIG_BIN)/spiqa-hist $< --hidden-states --quiet --npy $@.tmp.npy --table layers --table hist \
	  > $(@D)/hs-hist.tsv'
	mv $@.tmp.npy $@
CAPTION_hs = SST-2 dev · $(notdir $(MODEL_SST2)) · hidden states of $(SAMPLES_HS_SST2) sentences$(if $(filter all,$(SAMPLES_HS_SST2)),, (random.sample, seed 123))
$(F)/i_hidden_states_sst2.png $(F)/i_hidden_states_sst2.pdf &: $(R)/sst2/hs-hist.npy $(FIG_SCRIPTS)/plot_hidden_states.py
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_hidden_states.py $< $(F)/i_hidden_states_sst2 --title "$(CAPTION_hs)"

## (j) masked LM: eval rows only (an attention stream of every masked copy would be n − 2 times a line's), unless
## mlm is also one of FIG_TASKS (then TASK_RULES makes these rows and every per-task figure of it).
ifeq ($(MLM_PANEL),1)
  ifeq ($(wildcard $(MODEL_MLM)/config.json),)
    $(error FIG_MLM=1 but $(MODEL_MLM) has no config.json: `make mlm-model` (needs torch) or MODEL_MLM=DIR)
  endif
EVAL_ARGS_mlm = --quiet --task mlm --model $(MODEL_MLM) --data $(DATA_MLM) --limit $(SAMPLES_MLM)
EVAL_mlm = $(FIG_BIN)/spiqa-eval $(EVAL_ARGS_mlm)
$(R)/mlm/threshold/%.json: $(R)/mlm/eval.settings | figures-tools
	@mkdir -p $(@D)
	$(call eval_row,mlm,--threshold $*)
$(R)/mlm/bits/%.json: $(R)/mlm/eval.settings | figures-tools
	@mkdir -p $(@D)
	$(call eval_row,mlm,--method $(call method_of,$*) --bits $(notdir $*))
endif
$(F)/j_masked_lm.png $(F)/j_masked_lm.pdf &: $(ROWS_mlm) $(FIG_SCRIPTS)/plot_mlm.py $(FIG_SCRIPTS)/rows.py
	@mkdir -p $(@D)
	$(FIG_PYTHON) $(FIG_SCRIPTS)/plot_mlm.py $(R) $(F)/j_masked_lm

## The results tables and the two claims, generated from the rows.
$(R)/results.md: $(FIG_ROWS) $(ROWS_js) $(FIGURES) $(ANALYSIS_FIGURES) $(FIG_SCRIPTS)/results_md.py $(FIG_SCRIPTS)/rows.py
	$(FIG_PYTHON) $(FIG_SCRIPTS)/results_md.py $(R) --figures $(F) --expected-rows $(words $(FIG_ROWS)) --output $@
	@echo "figures: $(F)/ and $(R)/results.md are up to date"
docs/results.md: $(R)/results.md
	cp $< $@
