# Sourced by the scripts in this folder: finds a JDK 25 or newer and sets JAVA_HOME, PATH and
# MAVEN_OPTS. Order: $JAVA_HOME if it is new enough, then /usr/lib/jvm/*, then the java on PATH.
# Says exactly what is missing when there is none.

seq4j_java_feature() { # prints the feature release (e.g. 25) of the java at $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

seq4j_find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  command -v java >/dev/null 2>&1 && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(seq4j_java_feature "$c/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! SEQ4J_JDK=$(seq4j_find_jdk); then
  echo "seq4j: no JDK 25 or newer found (looked at \$JAVA_HOME='${JAVA_HOME:-}', /usr/lib/jvm/*, and java on PATH)." >&2
  echo "seq4j: install one (e.g. Temurin 25) under /usr/lib/jvm or point JAVA_HOME at it." >&2
  exit 1
fi
export JAVA_HOME="$SEQ4J_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# Maven's own libraries call sun.misc.Unsafe; JDK 25 warns about that on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
if ! command -v mvn >/dev/null 2>&1; then
  echo "seq4j: Apache Maven (mvn) is not on PATH; install it (Debian: apt-get install maven)." >&2
  exit 1
fi
# Maven builds the native kernels with make (native/Makefile), which runs gcc, or the compiler that CC names
if ! command -v make >/dev/null 2>&1; then
  echo "seq4j: make is not on PATH; install it (Debian: apt-get install make)." >&2
  exit 1
fi
if [ -z "${CC:-}" ] && ! command -v gcc >/dev/null 2>&1; then
  echo "seq4j: gcc is not on PATH; install it (Debian: apt-get install gcc)." >&2
  exit 1
fi
SEQ4J_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SEQ4J_ROOT
