#!/usr/bin/env bash
# Runs etc/slurm/medtag-array.sbatch as a 3-task array on a single-node Slurm started here
# (controller and node on localhost), then `medtag merge`. Needs root, slurm-wlm and munge.
# Usage: slurm-array.sh MEDTAG_BIN INPUT_DIR OUTPUT_DIR
# Exit 0: merged; 77: Slurm cannot be started here (reason on stderr); other: failure.
set -uo pipefail
MEDTAG=$1 INPUT=$2 OUTPUT=$3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "needs root to start slurmctld/slurmd" >&2; exit 77; }
for b in slurmctld slurmd sbatch munged; do command -v $b >/dev/null || { echo "$b not installed (apt-get install slurm-wlm munge)" >&2; exit 77; }; done
ps -C slurmctld -o stat= 2>/dev/null | grep -qv Z && { echo "a slurmctld already runs here; not touching it" >&2; exit 77; }

STATE=$(mktemp -d /tmp/medtag-slurm.XXXXXX)
HOST=$(hostname -s)
MEM=$(awk '/MemTotal/ {print int($2/1024/2)}' /proc/meminfo)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$STATE"
}
trap cleanup EXIT

mkdir -p "$STATE"/{ctld,d,log,munge,run}
# munge with its own key and socket, so nothing system-wide changes.
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
chown -R munge:munge "$STATE/munge" 2>/dev/null || true
MUNGE_SOCKET="$STATE/munge/munge.socket"
/usr/sbin/munged --force --key-file="$STATE/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/seed" \
  || { echo "munged did not start" >&2; exit 77; }
sleep 0.5
PIDS+=("$(cat "$STATE/munge/munged.pid")")

cat > "$STATE/slurm.conf" <<CONF
ClusterName=medtagtest
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$HOST CPUs=$(nproc) RealMemory=$MEM State=UNKNOWN
PartitionName=batch Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$STATE/slurm.conf"
/usr/sbin/slurmctld -f "$SLURM_CONF" || { echo "slurmctld did not start: $(tail -3 $STATE/log/slurmctld.log 2>/dev/null)" >&2; exit 77; }
/usr/sbin/slurmd -f "$SLURM_CONF" || { echo "slurmd did not start" >&2; exit 77; }
sleep 1
PIDS+=("$(cat $STATE/run/slurmctld.pid 2>/dev/null)" "$(cat $STATE/run/slurmd.pid 2>/dev/null)")
for i in $(seq 1 30); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo -h -o %t | grep -q idle || { echo "the node never became idle: $(sinfo 2>&1 | tail -2)" >&2; exit 77; }

mkdir -p "$OUTPUT"
JOB=$(cd "$OUTPUT" && MEDTAG_BIN="$MEDTAG" MEDTAG_INPUT="$INPUT" MEDTAG_OUTPUT="$OUTPUT" \
  sbatch --parsable --array=0-2 --mem=100 --export=ALL "$ROOT/etc/slurm/medtag-array.sbatch") || { echo "sbatch failed" >&2; exit 1; }
echo "submitted array job $JOB (3 tasks)"
for i in $(seq 1 120); do
  [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] || { echo "array job $JOB still running after 120 s" >&2; exit 1; }
cat "$OUTPUT"/medtag-*.log 2>/dev/null
"$MEDTAG" merge "$OUTPUT"
