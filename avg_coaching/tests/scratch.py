"""Scratch databases for the tests that need real processes and real tools.

A test transaction is never committed, so other processes (pg_dump, a second
Odoo, tools/reapply-erasures) cannot see it. These tests copy the test database
(as installed, committed) into a scratch database with pg_dump, work in it through
``odoo-bin shell`` processes and drop it, with its filestore, key store and journal,
at the end. A database restored from a dump gets a copy of the key store as it is
now (a pg_dump does not hold it): the source's for the scratch database, the
scratch database's for a backup of it restored beside it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid

import odoo
from odoo.tools import config
from odoo.tools.misc import exec_pg_environ, find_pg_tool

ODOO_BIN = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pg_tool(name, *args, **kw):
    return subprocess.run(
        [find_pg_tool(name), *args],
        env=exec_pg_environ(),
        capture_output=True,
        check=True,
        timeout=600,
        **kw,
    )


class ScratchDatabase:
    """A copy of a database, reached only through subprocesses."""

    def __init__(self, case, source_db, tag):
        self.source_db = source_db
        self.dbname = f"{source_db}_{tag}_{uuid.uuid4().hex[:8]}"
        self.workdir = tempfile.mkdtemp(prefix=f"avg-{tag}-")
        self.databases = []
        case.addCleanup(self.cleanup)
        self.conf = self.write_conf(self.dbname)

    # ------------------------------------------------------------- databases
    def dump(self, dbname=None):
        """A custom-format pg_dump of ``dbname`` (default: this scratch database)."""
        path = os.path.join(self.workdir, f"{uuid.uuid4().hex[:8]}.dump")
        pg_tool("pg_dump", "--format=custom", "--no-owner", "-f", path,
                dbname or self.dbname)  # fmt: skip
        return path

    def restore(self, dump, dbname, key_store_from=None):
        """Restore ``dump`` into the new database ``dbname``, with a copy of the
        current key store of ``key_store_from`` (default: the scratch database,
        or the source database for the scratch database itself)."""
        self.databases.append(dbname)
        pg_tool("createdb", dbname)
        pg_tool("pg_restore", "--no-owner", "-d", dbname, dump)
        if key_store_from is None:
            key_store_from = self.source_db if dbname == self.dbname else self.dbname
        self.copy_key_store(key_store_from, dbname)

    @staticmethod
    def key_store(dbname):
        root = config.get("avg_key_store_dir") or os.path.join(
            config["data_dir"], "avg_coaching_keys"
        )
        return os.path.join(root, dbname)

    def copy_key_store(self, source, dbname):
        """Replace ``dbname``'s key store by a copy of ``source``'s (a directory
        path or a database name)."""
        source = source if os.path.isabs(source) else self.key_store(source)
        target = self.key_store(dbname)
        shutil.rmtree(target, ignore_errors=True)
        if os.path.isdir(source):
            shutil.copytree(source, target)

    def make(self):
        """Make the scratch database: a copy of the source database as committed."""
        self.restore(self.dump(self.source_db), self.dbname)
        return self

    def journal(self, dbname=None):
        return os.path.join(
            config["data_dir"], "avg_coaching", f"{dbname or self.dbname}.jsonl"
        )

    def cleanup(self):
        for dbname in self.databases:
            pg_tool("dropdb", "--if-exists", "--force", dbname)
            shutil.rmtree(config.filestore(dbname), ignore_errors=True)
            shutil.rmtree(self.key_store(dbname), ignore_errors=True)
            if os.path.exists(self.journal(dbname)):
                os.remove(self.journal(dbname))
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------- processes
    def write_conf(self, dbname):
        """An Odoo configuration like tools/common.sh writes, for ``dbname``."""
        path = os.path.join(self.workdir, f"{dbname}.conf")
        options = {
            "addons_path": config["addons_path"],
            "data_dir": config["data_dir"],
            "db_name": dbname,
            "dbfilter": f"^{dbname}$",
            "list_db": "False",
            "avg_master_key_file": config.get("avg_master_key_file") or "",
            "avg_master_key": config.get("avg_master_key") or "",
            "avg_key_store_dir": os.path.dirname(self.key_store(dbname)),
        }
        for option in ("db_user", "db_password", "db_host", "db_port"):
            if config.get(option):
                options[option] = config[option]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[options]\n")
            handle.writelines(f"{key} = {value}\n" for key, value in options.items())
        return path

    def shell_command(self, dbname=None):
        dbname = dbname or self.dbname
        return [
            sys.executable,
            ODOO_BIN,
            "shell",
            "-c",
            self.write_conf(dbname),
            "-d",
            dbname,
            "--no-http",
            "--log-level=warn",
        ]

    def shell(self, script, dbname=None, check=True, timeout=300):
        """Run ``script`` in ``odoo-bin shell`` (``env`` is the superuser's)."""
        done = subprocess.run(
            self.shell_command(dbname),
            input=textwrap.dedent(script),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode:
            raise AssertionError(
                f"odoo-bin shell failed ({done.returncode}):\n{done.stdout}\n"
                f"{done.stderr}"
            )
        return done

    def popen(self, script, dbname=None):
        """Start ``script`` in its own ``odoo-bin shell`` process."""
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            self.shell_command(dbname),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        process.stdin.write(textwrap.dedent(script))
        process.stdin.close()
        process.stdin = None  # communicate() reads the output only
        return process

    def sql(self, query, dbname=None):
        """Rows of ``query`` as text (psql), read outside any test transaction."""
        out = pg_tool(
            "psql", "-X", "-A", "-t", "-F", "|", "-d", dbname or self.dbname,
            "-c", query, text=True,
        ).stdout  # fmt: skip
        return [line.split("|") for line in out.splitlines() if line]
