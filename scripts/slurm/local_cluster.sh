#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, in a scratch folder, for tests and measurements (docs/scaling.md).
#
#   scripts/slurm/local_cluster.sh start DIR    start munged, slurmctld and slurmd; prints `export SLURM_CONF=...`
#   scripts/slurm/local_cluster.sh stop DIR     stop the daemons this script started in DIR (by their pid files)
#
# Needs root and Debian's slurm-wlm and munge (`apt-get install -y slurm-wlm munge`). Everything lives in DIR: its
# own munged socket and key copy, slurm.conf, state, spool, logs and pid files; the daemons listen on their own ports
# (SPIQA_SLURM_PORT, default 16817, and the next one), so a site's Slurm on the same machine is not touched.
# The node offers SPIQA_SLURM_CPUS CPUs (default: nproc).
set -euo pipefail
cmd=${1:?usage: local_cluster.sh start|stop DIR}
dir=${2:?usage: local_cluster.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
port=${SPIQA_SLURM_PORT:-16817}
cpus=${SPIQA_SLURM_CPUS:-$(nproc)}
host=$(hostname -s)

stop_pid() {  # stop_pid PIDFILE: TERM the daemon, then wait (up to 10 s) until it is gone
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case $cmd in
start)
  for t in munged slurmctld slurmd sbatch; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "local_cluster: $t not found (apt-get install slurm-wlm munge)" >&2; exit 2; }
  done
  [ "$(id -u)" = 0 ] || { echo "local_cluster: needs root (slurmd runs jobs as their users)" >&2; exit 2; }
  chmod 0755 "$dir"   # munged (the munge user) must reach its folder
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged: its own key copy, socket, pid and seed files, owned by the munge user (it refuses root-owned keys).
  cp /etc/munge/munge.key "$dir/munge/munge.key"
  chown -R munge:munge "$dir/munge"
  chmod 0755 "$dir/munge"; chmod 0600 "$dir/munge/munge.key"   # the socket's folder must be searchable by all
  su -s /bin/sh munge -c "/usr/sbin/munged --key-file=$dir/munge/munge.key --socket=$dir/munge/munge.socket \
    --pid-file=$dir/munge/munged.pid --seed-file=$dir/munge/munged.seed --log-file=$dir/munge/munged.log"
  cat > "$dir/slurm.conf" <<CONF
ClusterName=spiqa-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MessageTimeout=30
InactiveLimit=0
KillWait=2
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  /usr/sbin/slurmctld -f "$SLURM_CONF" -i   # -i: ignore state left by an earlier run in DIR
  /usr/sbin/slurmd -f "$SLURM_CONF"
  for _ in $(seq 150); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      exit 0
    fi
    sleep 0.2
  done
  echo "local_cluster: the node did not become idle in 30 s; see $dir/log" >&2
  sinfo >&2 || true
  exit 1
  ;;
stop)
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munge/munged.pid"
  ;;
*)
  echo "usage: local_cluster.sh start|stop DIR" >&2; exit 64 ;;
esac
