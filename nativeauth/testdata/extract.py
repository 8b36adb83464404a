#!/usr/bin/env python3
"""Copy every response example of the reference pages, verbatim, into
testdata/pages/. Each file is named after the page, the endpoint of the
closest preceding request example, the page line, the HTTP status and the
kind of answer (success, redirect or error_<code>).
Rerun after the pages change: python3 testdata/extract.py /work/shared/spec
"""
import os, re, sys

spec = sys.argv[1]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pages")
pages = {"native-auth-email-password-api.txt": "pw", "native-auth-email-otp-api.txt": "otp"}
for name, short in pages.items():
    lines = open(os.path.join(spec, name), encoding="utf-8").read().split("\n")
    endpoint = None
    i = 0
    while i < len(lines):
        m = re.match(r"POST /\{tenant_subdomain\}\.onmicrosoft\.com(/\S+)", lines[i].strip())
        if m:
            endpoint = m.group(1)
        m = re.match(r"HTTP/1\.1 (\d{3})", lines[i].strip())
        if m:
            status, start = m.group(1), i + 1
            ctype = ""
            j = start
            while j < len(lines) and not lines[j].lstrip().startswith("{"):
                if lines[j].lower().startswith("content-type:"):
                    ctype = lines[j].split(":", 1)[1].strip()
                j += 1
            depth, body = 0, []
            for k in range(j, len(lines)):
                body.append(lines[k])
                depth += lines[k].count("{") - lines[k].count("}")
                if depth <= 0:
                    break
            slug = endpoint.strip("/").replace("/", "_").replace(".", "")
            text = "\n".join(body)
            m = re.search(r'"error"\s*:\s*"([a-z_]*)"', text)
            if m:
                kind = "error_" + (m.group(1) or "empty")
            elif re.search(r'"challenge_type"\s*:\s*"redirect"', text):
                kind = "redirect"
            else:
                kind = "success"
            fn = f"{short}_L{i+1:04d}_{slug}_{status}_{kind}.json"
            with open(os.path.join(out, fn), "w", encoding="utf-8") as f:
                f.write("\n".join(body) + "\n")
            print(fn, ctype)
            i = k
        i += 1
