#!/bin/bash
# Issue 7, Prometheus metrics during a devnet run: metrics_listen on port 0 (the bound address
# is in status --json), the whole exposition parsed by a strict text-format parser (HELP and
# TYPE lines, metric and label syntax, one family per block, no duplicate series, histogram
# buckets cumulative and ending in le="+Inf" equal to _count), and between two scrapes while
# windows are accepted: counters never go down, and windows seen, accepted submissions,
# the latency histograms' counts move; seconds since the last accepted submission, the last
# prediction and the wallet balance are there.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""')
check "status --json names the bound metrics address" sh -c "echo '$M' | grep -Eq '^127\.0\.0\.1:[0-9]+$'"
URL="http://$M/metrics"

accepted() { status_json "$D/w.conf" | json - 'sum(t["accepted"] for t in d["topics"] if t["id"] == 67)'; }
at_least() { [ "$(accepted)" -ge "$1" ]; }
check "windows accepted for topic 67" wait_for 60 at_least 2
check "scrape 1 (HTTP 200, text format 0.0.4)" sh -c "curl -sf -D '$T/h1' -o '$T/m1' '$URL' && grep -qi '^content-type: text/plain; version=0.0.4' '$T/h1'"
n1=$(accepted)
# Windows seen before scrape 1 may be accepted after it: wait for three more seen as well.
seen67() { curl -sf "$URL" | awk '/^allora_worker_windows_seen_total\{/ && /topic="67"/ {n += $NF} END {print n + 0}'; }
s1=$(seen67)
more() { at_least $((n1 + 3)) && [ "$(seen67)" -ge $((s1 + 3)) ]; }
check "three more windows seen and accepted" wait_for 60 more
check "scrape 2" curl -sf -o "$T/m2" "$URL"
check "another path is 404" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' 'http://$M/other') = 404 ]"
status_json "$D/w.conf" >"$T/s.json"

cat >"$T/prom.py" <<'PY'
# A strict parser of the Prometheus text exposition format 0.0.4.
import math, re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

class Bad(Exception):
    pass

def value(s, where):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise Bad("%s: bad value %r" % (where, s))
    return float(s)

def labels(text, where):
    """text is what is between the braces; returns a dict."""
    out, i = {}, 0
    while i < len(text):
        m = re.match(LNAME, text[i:])
        if not m:
            raise Bad("%s: bad label name at %r" % (where, text[i:]))
        name = m.group(0)
        if name.startswith("__"):
            raise Bad("%s: reserved label name %s" % (where, name))
        i += len(name)
        if text[i:i + 2] != '="':
            raise Bad("%s: expected =\" after %s" % (where, name))
        i += 2
        v = []
        while True:
            if i >= len(text):
                raise Bad("%s: unterminated label value" % where)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Bad("%s: bad escape \\%s" % (where, nxt))
                v.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad("%s: newline in a label value" % where)
            else:
                v.append(c)
                i += 1
        if name in out:
            raise Bad("%s: label %s twice" % (where, name))
        out[name] = "".join(v)
        if i < len(text):
            if text[i] != ",":
                raise Bad("%s: expected , at %r" % (where, text[i:]))
            i += 1
            if i == len(text):
                raise Bad("%s: trailing comma" % where)
    return out

def family_of(sample, types):
    for suf in ("_bucket", "_sum", "_count"):
        if sample.endswith(suf) and types.get(sample[:-len(suf)]) in ("histogram", "summary"):
            return sample[:-len(suf)]
    return sample

def parse(text):
    """Returns {(name, frozenset(labels.items())): value} and {family: type}."""
    if not text.endswith("\n"):
        raise Bad("the exposition does not end with a newline")
    types, helps, series = {}, {}, {}
    seen_families, current = set(), None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d" % n
        if line == "":
            raise Bad("%s: empty line" % where)
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME, line)
            if not m:
                raise Bad("%s: a comment that is not HELP or TYPE: %r" % (where, line))
            kind, fam, rest = m.groups()
            if fam in seen_families and fam != current:
                raise Bad("%s: %s %s after its samples" % (where, kind, fam))
            if kind == "TYPE":
                if rest not in TYPES:
                    raise Bad("%s: unknown type %r" % (where, rest))
                if fam in types:
                    raise Bad("%s: second TYPE for %s" % (where, fam))
                if fam in seen_families:
                    raise Bad("%s: TYPE of %s after its samples" % (where, fam))
                types[fam] = rest
            else:
                if fam in helps:
                    raise Bad("%s: second HELP for %s" % (where, fam))
                if re.search(r"\\[^\\n]", rest.replace("\\\\", "")):
                    raise Bad("%s: bad escape in HELP" % where)
                if rest.strip() == "":
                    raise Bad("%s: empty HELP" % where)
                helps[fam] = rest
            continue
        m = re.fullmatch(r"(%s)(\{(.*)\})? (\S+)( -?\d+)?" % NAME, line)
        if not m:
            raise Bad("%s: not a sample: %r" % (where, line))
        name, _, lab, val, _ts = m.groups()
        lab = labels(lab or "", where)
        fam = family_of(name, types)
        if fam not in types:
            raise Bad("%s: %s has no TYPE line" % (where, fam))
        if fam not in helps:
            raise Bad("%s: %s has no HELP line" % (where, fam))
        if fam != current:
            if fam in seen_families:
                raise Bad("%s: samples of %s are not together" % (where, fam))
            seen_families.add(fam)
            current = fam
        t = types[fam]
        if t == "histogram":
            if name == fam:
                raise Bad("%s: histogram sample without _bucket/_sum/_count" % where)
            if name.endswith("_bucket") and "le" not in lab:
                raise Bad("%s: bucket without le" % where)
            if not name.endswith("_bucket") and "le" in lab:
                raise Bad("%s: le on a non-bucket sample" % where)
        elif name != fam:
            raise Bad("%s: sample %s in family %s" % (where, name, fam))
        v = value(val, where)
        if t == "counter" and not (v >= 0 and math.isfinite(v)):
            raise Bad("%s: counter %s = %s" % (where, name, val))
        key = (name, frozenset(lab.items()))
        if key in series:
            raise Bad("%s: duplicate series %s %s" % (where, name, lab))
        series[key] = v
    # Histograms: per label set, buckets cumulative, le ascending, +Inf last and = _count.
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for (name, lab), v in series.items():
            if family_of(name, types) != fam:
                continue
            d = dict(lab)
            le = d.pop("le", None)
            g = groups.setdefault(frozenset(d.items()), {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                g["buckets"].append((value(le, fam + " le"), v, le))
            elif name == fam + "_sum":
                g["sum"] = v
            else:
                g["count"] = v
        for lab, g in groups.items():
            b = sorted(g["buckets"])
            if not b or b[-1][2] != "+Inf":
                raise Bad("%s%s: no le=\"+Inf\" bucket" % (fam, dict(lab)))
            if g["sum"] is None or g["count"] is None:
                raise Bad("%s%s: _sum or _count missing" % (fam, dict(lab)))
            for (l1, c1, _), (l2, c2, _) in zip(b, b[1:]):
                if l1 == l2 or c2 < c1:
                    raise Bad("%s%s: buckets not cumulative at le=%s" % (fam, dict(lab), l2))
            if b[-1][1] != g["count"]:
                raise Bad("%s%s: +Inf bucket %s != _count %s" % (fam, dict(lab), b[-1][1], g["count"]))
            if g["sum"] < 0:
                raise Bad("%s%s: negative _sum" % (fam, dict(lab)))
    return series, types

def get(series, name, **lab):
    return series.get((name, frozenset((k, str(v)) for k, v in lab.items())))

def total(series, name, **lab):
    want = {k: str(v) for k, v in lab.items()}
    return sum(v for (n, l), v in series.items() if n == name and want.items() <= dict(l).items())
PY

check "scrape 1 parses strictly" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
prom.parse(open('$T/m1').read())"
check "scrape 2 parses strictly" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
prom.parse(open('$T/m2').read())"
check "the parser refuses broken expositions" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
good = open('$T/m2').read()
bad = [good.replace('# HELP ', '# HELPX ', 1),                       # bad comment
       good.replace('le=\"+Inf\"', 'le=\"1e9\"'),                    # no +Inf bucket
       good + 'allora_worker_up 1\n',                                 # duplicate series
       good.replace('topic=\"67\"', 'topic=\"67', 1),                 # unterminated label
       good + 'no_type_metric 1\n',                                   # no TYPE
       good.replace('\n', '\n\n', 1),                                 # empty line
       good.rstrip('\n')]                                             # no final newline
for i, b in enumerate(bad):
    try:
        prom.parse(b)
    except prom.Bad:
        continue
    raise SystemExit('broken exposition %d accepted' % i)"

check "counters never go down between the scrapes" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
s1, t1 = prom.parse(open('$T/m1').read()); s2, t2 = prom.parse(open('$T/m2').read())
for (n, l), v in s1.items():
    fam = prom.family_of(n, t1)
    if t1[fam] == 'counter' or (t1[fam] == 'histogram' and not n.endswith('_sum')):
        assert (n, l) in s2, ('series gone', n, dict(l))
        assert s2[(n, l)] >= v, ('went down', n, dict(l), v, s2[(n, l)])"

check "windows seen, accepted submissions and both latency histograms moved for topic 67" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
s1, _ = prom.parse(open('$T/m1').read()); s2, _ = prom.parse(open('$T/m2').read())
def moved(name, at_least, **lab):
    a, b = prom.total(s1, name, **lab), prom.total(s2, name, **lab)
    assert b - a >= at_least, (name, lab, a, b)
moved('allora_worker_windows_seen_total', 3, topic=67)
moved('allora_worker_submissions_total', 3, topic=67, outcome='accepted')
moved('allora_worker_window_to_broadcast_seconds_count', 3, topic=67)
moved('allora_worker_window_to_inclusion_seconds_count', 3, topic=67)
moved('allora_worker_predictions_total', 3, topic=67)
moved('allora_worker_windows_seen_total', 1, topic=68)
assert set(dict(l)['source'] for (n, l) in s2 if n == 'allora_worker_windows_seen_total') <= {'ws', 'poll'}"

check "accepted counts agree with status, and the devnet accepted at least as many" python3 -c "
import json, sys; sys.path.insert(0, '$T'); import prom
s2, _ = prom.parse(open('$T/m2').read())
st = {t['id']: t for t in json.load(open('$T/s.json'))['topics']}
for topic in (67, 68):
    m = prom.get(s2, 'allora_worker_accepted', topic=topic)
    assert m is not None and m <= st[topic]['accepted'], (topic, m, st[topic]['accepted'])
    assert prom.total(s2, 'allora_worker_submissions_total', topic=topic, outcome='accepted') <= m
acc = sum(1 for l in open('$D/record.jsonl') if '\"stage\":\"deliver\"' in l and '\"code\":0' in l)
assert acc >= prom.total(s2, 'allora_worker_submissions_total', outcome='accepted'), acc"

check "seconds since the last accepted submission per topic: present and recent" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
for f in ('$T/m1', '$T/m2'):
    s, _ = prom.parse(open(f).read())
    v = prom.get(s, 'allora_worker_seconds_since_accepted', topic=67)
    assert v is not None and 0 <= v < 30, (f, v)
s, _ = prom.parse(open('$T/m2').read())
assert prom.get(s, 'allora_worker_seconds_since_accepted', topic=68) is not None"

check "the last prediction per topic equals status's last value" python3 -c "
import json, sys; sys.path.insert(0, '$T'); import prom
s2, _ = prom.parse(open('$T/m2').read())
st = {t['id']: t for t in json.load(open('$T/s.json'))['topics']}
for topic in (67, 68):
    v = prom.get(s2, 'allora_worker_last_prediction', topic=topic)
    assert v is not None and abs(v) < 1, (topic, v)
    assert abs(v - float(st[topic]['last_value'])) < 1e-12, (topic, v, st[topic]['last_value'])"

check "the wallet balance went down (fees), children and topic states are there" python3 -c "
import sys; sys.path.insert(0, '$T'); import prom
s1, _ = prom.parse(open('$T/m1').read()); s2, _ = prom.parse(open('$T/m2').read())
b1 = prom.get(s1, 'allora_worker_wallet_balance_uallo', wallet='main')
b2 = prom.get(s2, 'allora_worker_wallet_balance_uallo', wallet='main')
assert b1 is not None and b2 is not None and b2 < b1 <= 100000000000, (b1, b2)
for role in ('listener', 'trainer', 'submitter'):
    assert prom.get(s2, 'allora_worker_child_running', role=role) == 1, role
    assert prom.get(s2, 'allora_worker_child_restarts', role=role) == 0, role
assert prom.get(s2, 'allora_worker_topic_state', topic=67, state='serving') == 1
assert prom.get(s2, 'allora_worker_up') == 1 and prom.get(s2, 'allora_worker_ready') == 1"

check "stop" "$CTL" -c "$D/w.conf" stop
finish
