"""Records how pip reads a requirements file into logical lines, for requirements.test.ts.

pip's own reading of a file (`auto_decode` of its bytes, then `req_file.preprocess`: split, join
continuations, drop comments and blanks) of texts built around every character Python's
str.splitlines() breaks at, the other C0 controls, Python's whitespace and pip's continuation
and comment rules. Run with pip installed, from this folder:
`env -i PYTHONUTF8=1 python3 pip-lines.py > pip-lines.json` (no other variables: pip expands
${VAR} in lines).
"""
import json
import sys

import pip
from pip._internal.req.req_file import preprocess
from pip._internal.utils.encoding import auto_decode

breaks = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
controls = [chr(c) for c in range(0x20)] + ["\x7f", "\x1f", "\xa0", "\u1680", "\u2007", "\u202f", "\u3000", "\ufeff", "\u200b"]

texts = []
for c in breaks + controls:
    texts += [
        f"numpy==2.0.0{c}--pre{c}numpy==1.0.0",
        f"a{c}b",
        f"numpy{c}# comment",
        f"numpy {c}#not-a-comment-unless-space",
        f"{c}numpy{c}",
        f"pkg \\{c}  >=1",
        f"x{c}#{c}y",
    ]
texts += [
    "\ufeffnumpy\nscipy",
    "numpy \\",
    "numpy \\\\\\\n>=1",
    "\\\\numpy\\\n\\==1",
    "a \\\n# comment \\\nb",
    "# comment \\\nnext",
    "  # indented comment\nx",
    "x#y z #w",
    "x\t#tab comment",
    "\n\n\n",
    "",
    "a\\\n\\\n\\\nb",
    "a \\\n\n b",
]
cases = [json.dumps({"text": t, "lines": [[n, l] for n, l in preprocess(auto_decode(t.encode("utf-8")))]}, ensure_ascii=True) for t in texts]
print(f'{{"pip": "{pip.__version__}", "python": "{sys.version.split()[0]}", "cases": [\n' + ",\n".join(cases) + "\n]}")
