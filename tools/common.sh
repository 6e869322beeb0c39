# Shared set-up for tools/demo and tools/test. Sourced, not executed.
# Finds Odoo 18.0, makes the Python 3.12 virtual environment, installs the
# system packages the tests need, and starts PostgreSQL when none answers.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything made on this machine lives outside the clone, so that a fresh
# clone (as in CI) reuses the virtual environment instead of rebuilding it.
AVG_HOME="${AVG_HOME:-$HOME/.avg_coaching}"
VENV="${AVG_VENV:-$AVG_HOME/venv-py312}"
ODOO_DEFAULT_PATH="/opt/odoo18"

say() { printf '[avg_coaching] %s\n' "$*" >&2; }
die() { printf '[avg_coaching] ERROR: %s\n' "$*" >&2; exit 2; }

find_python312() {
    local c
    for c in "${AVG_PYTHON:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 \
             /usr/local/bin/python3.12 /usr/bin/python3.12; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
            command -v "$c"; return 0
        fi
    done
    return 1
}

# --- 1. Odoo: ODOO_PATH, else the default location, else an importable odoo.
find_odoo() {
    ODOO_SRC=""
    if [ -n "${ODOO_PATH:-}" ]; then
        [ -f "$ODOO_PATH/odoo-bin" ] && [ -d "$ODOO_PATH/odoo/addons" ] \
            || die "ODOO_PATH=$ODOO_PATH is not an Odoo 18.0 source tree (no odoo-bin and odoo/addons there)."
        ODOO_SRC="$ODOO_PATH"
    elif [ -f "$ODOO_DEFAULT_PATH/odoo-bin" ] && [ -d "$ODOO_DEFAULT_PATH/odoo/addons" ]; then
        ODOO_SRC="$ODOO_DEFAULT_PATH"
    elif [ -x "$VENV/bin/python" ] && ODOO_SRC="$("$VENV/bin/python" -c \
            'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null)"; then
        :
    else
        die "No Odoo 18.0 found. Unpack the Odoo 18.0 Community source (the tree with odoo-bin, odoo/ and requirements.txt) at $ODOO_DEFAULT_PATH, or set ODOO_PATH to where it is."
    fi
    local version
    version="$(sed -n 's/^version_info = (\([0-9]*\), \([0-9]*\).*/\1.\2/p' "$ODOO_SRC/odoo/release.py" 2>/dev/null || true)"
    [ "$version" = "18.0" ] || die "The Odoo found at $ODOO_SRC is version '${version:-unknown}', not 18.0. Point ODOO_PATH at an Odoo 18.0 tree."
    ODOO_ADDONS="$ODOO_SRC/odoo/addons"
    export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
}

# --- 2. Virtual environment with Odoo's requirements and ours, run time and
#        development (Python 3.12); rebuilt when any of the three files changes.
ensure_venv() {
    local py stamp want
    want="$( (cat "$ODOO_SRC/requirements.txt" "$REPO_DIR/requirements.txt" "$REPO_DIR/requirements-dev.txt"; echo "$ODOO_SRC") | sha256sum | cut -c1-16)"
    stamp="$VENV/.avg_coaching-$want"
    [ -f "$stamp" ] && return 0
    py="$(find_python312)" || die "Python 3.12 is needed (Odoo 18's pinned requirements only install as wheels on it). Install it or set AVG_PYTHON to its interpreter."
    say "Preparing the virtual environment at $VENV (Python 3.12; a few minutes the first time)."
    mkdir -p "$AVG_HOME"
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
    local reqs="$AVG_HOME/odoo-requirements.txt"
    # python-ldap needs LDAP headers and is only used by auth_ldap.
    grep -v '^python-ldap' "$ODOO_SRC/requirements.txt" > "$reqs"
    {
        "$VENV/bin/python" -m pip install -q --upgrade pip wheel setuptools \
        && "$VENV/bin/python" -m pip install -q -r "$reqs" -r "$REPO_DIR/requirements.txt" -r "$REPO_DIR/requirements-dev.txt"
    } 2>&1 | grep -v 'is ignored: it is neither a file nor a directory' >&2 || true
    "$VENV/bin/python" -c 'import odoo.release, cryptography, pytest_odoo, websocket, pypdf, whool' 2>/dev/null \
        || die "Installing the Python requirements into $VENV failed (see the messages above)."
    rm -f "$VENV"/.avg_coaching-*
    touch "$stamp"
}

# --- 3. Debian packages: Chromium for the portal tours, wkhtmltopdf for PDFs,
#        and the fonts the PDFs are set in. Debian's wkhtmltopdf (unpatched Qt)
#        draws Odoo's web fonts as shapes, so the reports name fonts installed
#        on the server (DejaVu Sans, else Liberation Sans): without them the
#        PDFs have no text layer (avg_coaching/report/avg_report_layout.xml).
ensure_system_packages() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
    [ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=(fonts-liberation)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "Missing system packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
    fi
    say "Installing ${missing[*]} from Debian's packages."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 4. PostgreSQL: use a running server, else start (or create) the local cluster.
ensure_postgres() {
    PG_USER="${PGUSER:-$(id -un)}"
    if ! pg_isready -q 2>/dev/null; then
        command -v pg_lsclusters >/dev/null 2>&1 \
            || die "No PostgreSQL server answers and Debian's postgresql-common is not installed: install PostgreSQL (apt-get install postgresql) or start a server."
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not running; start it (sudo pg_ctlcluster <version> main start) and run this again."
        local ver
        ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)"
        [ -n "$ver" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql: apt-get install postgresql."
        if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$ver main"; then
            say "Creating the PostgreSQL $ver cluster 'main'."
            pg_createcluster "$ver" main >/dev/null
        fi
        say "Starting PostgreSQL $ver."
        pg_ctlcluster "$ver" main start
        local i
        for i in $(seq 1 30); do pg_isready -q && break; sleep 1; done
        pg_isready -q || die "PostgreSQL did not start; see /var/log/postgresql/."
    fi
    # A superuser role for the current OS user (peer authentication on the socket).
    if ! psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || die "No PostgreSQL role '$PG_USER'. Create it: sudo -u postgres createuser -s $PG_USER"
        [ "$PG_USER" != "postgres" ] || die "Odoo refuses to run as the 'postgres' role: run as another user."
        runuser -u postgres -- createuser -s "$PG_USER"
    fi
}

db_exists() { psql -d postgres -Atc "select 1 from pg_database where datname = '$1'" | grep -q 1; }

# The key store (avg_key_store_dir): shards of the data keys, one directory per
# database, outside the database and outside Odoo's filestore, so that neither a
# pg_dump nor Odoo's backup zip holds it (README: Backups).
KEY_STORE_ROOT="$AVG_HOME/filestore/avg_coaching_keys"

# Creates the key store root (mode 700) unless it exists.
ensure_key_store() {
    [ -d "$1" ] && return 0
    (umask 077; mkdir -p "$1")
}

# Writes an Odoo configuration file: $1 path, $2 database, $3 master key file.
write_odoo_conf() {
    mkdir -p "$(dirname "$1")"
    ensure_key_store "$KEY_STORE_ROOT"
    cat > "$1" <<CONF
[options]
addons_path = $ODOO_ADDONS,$REPO_DIR
data_dir = $AVG_HOME/filestore
db_name = $2
db_user = $PG_USER
dbfilter = ^$2\$
list_db = False
without_demo = False
avg_master_key_file = $3
avg_key_store_dir = $KEY_STORE_ROOT
http_port = ${AVG_TEST_HTTP_PORT:-8069}
CONF
}

# Creates a random master key file unless it exists (mode 600).
ensure_master_key() {
    [ -s "$1" ] && return 0
    mkdir -p "$(dirname "$1")"
    (umask 077; "$VENV/bin/python" -c 'import os, base64; print(base64.urlsafe_b64encode(os.urandom(32)).decode())' > "$1")
}

setup_all() {
    find_odoo
    ensure_venv
    ensure_system_packages
    ensure_postgres
}
