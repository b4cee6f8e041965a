#!/usr/bin/env bash
# Run one command as a Slurm job and wait for it (`make figures SLURM=1`, docs/scaling.md).
#
#   scripts/slurm/submit.sh LOG -- COMMAND...
#
# Writes the command into LOG.sh, submits it (job name spiqa-<LOG's file name>, output to LOG), waits until it has
# left the queue (scripts/slurm/wait_jobs.sh) and exits with the command's exit status, which the job writes to
# LOG.rc; a cancelled or killed job writes none and counts as failed. So make sees a failed or cancelled job as a
# failed recipe. The command must
# write its output file atomically (a temporary name, then a rename), so that nothing half-written is left for make.
# Site options from the environment: SLURM_PARTITION, SLURM_ACCOUNT, SLURM_TIME, SLURM_CPUS, SLURM_EXTRA.
set -euo pipefail
[ $# -ge 3 ] && [ "$2" = "--" ] || { echo "usage: submit.sh LOG -- COMMAND..." >&2; exit 64; }
log=$1; shift 2
mkdir -p "$(dirname "$log")"
site=(--parsable)
[ -n "${SLURM_PARTITION:-}" ] && site+=(--partition "$SLURM_PARTITION")
[ -n "${SLURM_ACCOUNT:-}" ] && site+=(--account "$SLURM_ACCOUNT")
[ -n "${SLURM_TIME:-}" ] && site+=(--time "$SLURM_TIME")
[ -n "${SLURM_CPUS:-}" ] && site+=(--cpus-per-task "$SLURM_CPUS")
# shellcheck disable=SC2206
[ -n "${SLURM_EXTRA:-}" ] && site+=($SLURM_EXTRA)
rm -f "$log.rc"
{ echo '#!/usr/bin/env bash'; echo "cd $(printf '%q' "$PWD")"; printf '%q ' "$@"; echo;
  echo "echo \$? > $(printf '%q' "$log.rc.tmp") && mv $(printf '%q' "$log.rc.tmp") $(printf '%q' "$log.rc")"; } > "$log.sh"
job=$(sbatch "${site[@]}" --job-name "spiqa-$(basename "$log" .log)" --output "$log" "$log.sh")
"$(dirname "$0")/wait_jobs.sh" "$job"
rc=$(cat "$log.rc" 2>/dev/null || echo 1)
[ "$rc" = 0 ] || echo "submit.sh: job $job ($log.sh) ended with exit status $rc (none: cancelled or killed); see $log" >&2
exit "$rc"
