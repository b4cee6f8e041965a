#!/usr/bin/env bash
# Wait until Slurm jobs have left the queue: `squeue -h -j IDS` until it lists none (sacct is not needed, so this
# works on clusters without an accounting database). Polls after 0.2 s, then ever less often, at most every
# SPIQA_SLURM_POLL seconds (default 2). `sbatch --wait` is not used: its poll interval grows to 32 s.
#
#   scripts/slurm/wait_jobs.sh JOBID[,JOBID...]
set -euo pipefail
ids=${1:?usage: wait_jobs.sh JOBID[,JOBID...]}
max=${SPIQA_SLURM_POLL:-2}
delay=0.2
while out=$(squeue -h -j "$ids" -o %i 2>/dev/null) && [ -n "$out" ]; do
  sleep "$delay"
  delay=$(awk -v d="$delay" -v m="$max" 'BEGIN { d *= 1.5; print (d > m ? m : d) }')
done
