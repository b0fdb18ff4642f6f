#!/usr/bin/env bash
# A throwaway Neo4j Community server for CityKG, from the jars on Maven Central (no Docker, no
# download from anywhere else). See README.md in this folder.
#
#   server.sh fetch          copy the server's jars into lib/ (once; cached until pom.xml changes)
#   server.sh start          fetch, write a config into $CITYKG_NEO4J_HOME, set the password, start
#                            the server in the background and wait until Bolt answers; prints the URI
#   server.sh stop           stop the server started from $CITYKG_NEO4J_HOME and, unless
#                            CITYKG_NEO4J_KEEP=1, remove that folder
#
# Settings (environment): CITYKG_NEO4J_HOME (required by start/stop: the server's folder),
# CITYKG_NEO4J_PORT (Bolt port, default 7687), CITYKG_NEO4J_PASSWORD (default "citykg-test"),
# CITYKG_NEO4J_HEAP (default 512m), CITYKG_NEO4J_PAGECACHE (default 256m), CITYKG_NEO4J_WAIT
# (seconds to wait for Bolt, default 120).
#
# Exit codes: 0 done; 1 wrong usage or setting; 2 Java or Maven missing; 3 the server did not start
# (the end of its log is printed); 4 the jars could not be fetched.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lib="$here/lib"
stamp="$lib/.pom-sha256"

fail() { echo "error: $2" >&2; exit "$1"; }

fetch() {
  local want
  want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  command -v mvn >/dev/null || fail 2 "Maven (mvn) is needed to fetch the Neo4j jars: apt-get install -y maven"
  echo "fetching the Neo4j server jars from Maven Central into $lib ..." >&2
  rm -rf "$lib"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies >&2 \
    || fail 4 "could not fetch the Neo4j jars from Maven Central (see Maven's output above)"
  echo "$want" > "$stamp"
}

home_dir() {
  [ -n "${CITYKG_NEO4J_HOME:-}" ] || fail 1 "set CITYKG_NEO4J_HOME to the folder the server may use"
  mkdir -p "$CITYKG_NEO4J_HOME"
  cd "$CITYKG_NEO4J_HOME" && pwd
}

start() {
  command -v java >/dev/null || fail 2 "Java 17 or newer is needed to run Neo4j"
  fetch
  local home port password
  home="$(home_dir)"
  port="${CITYKG_NEO4J_PORT:-7687}"
  password="${CITYKG_NEO4J_PASSWORD:-citykg-test}"
  [[ "$port" =~ ^[0-9]+$ ]] || fail 1 "CITYKG_NEO4J_PORT must be a port number, not '$port'"
  [ "${#password}" -ge 8 ] || fail 1 "CITYKG_NEO4J_PASSWORD must have at least 8 characters (Neo4j's rule)"
  if [ -f "$home/server.pid" ] && kill -0 "$(cat "$home/server.pid")" 2>/dev/null; then
    fail 1 "a server already runs from $home (pid $(cat "$home/server.pid")); stop it first"
  fi
  mkdir -p "$home/conf" "$home/data" "$home/logs" "$home/plugins" "$home/import" "$home/run"
  cat > "$home/conf/neo4j.conf" <<CONF
server.default_listen_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:$port
server.http.enabled=false
server.https.enabled=false
server.memory.pagecache.size=${CITYKG_NEO4J_PAGECACHE:-256m}
server.directories.data=$home/data
server.directories.logs=$home/logs
server.directories.plugins=$home/plugins
server.directories.import=$home/import
server.directories.run=$home/run
db.tx_log.rotation.retention_policy=2 files
CONF
  export NEO4J_HOME="$home" NEO4J_CONF="$home/conf"
  if [ ! -f "$home/data/dbms/auth.ini" ]; then
    java -cp "$lib/*" org.neo4j.cli.AdminTool dbms set-initial-password "$password" \
      > "$home/logs/set-password.log" 2>&1 \
      || { tail -20 "$home/logs/set-password.log" >&2; fail 3 "could not set the initial password"; }
  fi
  local heap="${CITYKG_NEO4J_HEAP:-512m}"
  # Detached from the caller's terminal and pipes (setsid, all three streams redirected), so a
  # caller that captures this script's output is not held open by the server.
  setsid java "-Xms$heap" "-Xmx$heap" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
    -XX:+UnlockExperimentalVMOptions -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC \
    -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true \
    -Dlog4j2.disable.jmx=true --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    -cp "$lib/*" org.neo4j.server.CommunityEntryPoint --home-dir="$home" --config-dir="$home/conf" \
    < /dev/null > "$home/logs/console.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$home/server.pid"
  local waited=0 limit="${CITYKG_NEO4J_WAIT:-120}"
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$home/logs/console.log" >&2
      rm -f "$home/server.pid"
      fail 3 "the Neo4j server stopped while starting (its log above; all of it in $home/logs)"
    fi
    if [ "$waited" -ge "$((limit * 4))" ]; then
      kill "$pid" 2>/dev/null || true
      tail -30 "$home/logs/console.log" >&2
      fail 3 "Bolt did not answer on 127.0.0.1:$port within ${limit}s (log above)"
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  echo "bolt://127.0.0.1:$port"
}

stop() {
  local home pid
  home="$(home_dir)"
  if [ -f "$home/server.pid" ]; then
    pid="$(cat "$home/server.pid")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$home/server.pid"
  fi
  if [ "${CITYKG_NEO4J_KEEP:-0}" != "1" ]; then
    rm -rf "$home"
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 fetch|start|stop (see the top of this file)" >&2; exit 1 ;;
esac
