# A breakpoint whose stop() does what lx-symbols does when a module is loaded
# again (scripts/gdb/linux/symbols.py, load_all_symbols): drop every symbol
# file, load the program's again, and return False (do not stop).
import os

import gdb

RELOAD = os.environ.get("RELOAD", "1") == "1"  # RELOAD=0: the control


class Reload(gdb.Breakpoint):
    def stop(self):
        i = int(gdb.parse_and_eval("i"))
        gdb.write(f"stop(): hook({i})\n")
        if RELOAD and i >= 1:
            gdb.execute("symbol-file")
            gdb.execute("symbol-file ./prog")
        return False


Reload("hook")
