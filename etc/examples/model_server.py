#!/usr/bin/env python3
"""An example model server for allora-workerd:  model = http://127.0.0.1:8000/inference/{Token}

allora-workerd asks GET <url> for each prediction, with {Token} (the topic's ticker),
{TopicId} and {BlockHeight} (the window's nonce) filled in, and reads one number from the
answer: a bare number, a quoted number, a JSON array of one, or a JSON object with "value",
"prediction" or "inference" (or a single member).  This server answers
  GET /inference/<token>        {"value": <number>, "token": "<token>"}   (JSON)
  GET /inference/<token>/bare   <number>                                  (text/plain)
where <number> is the toy forecast of predictor.py (the damped log return of the last 168
hours of --bars, a "unix,close" CSV), printed with six decimals.  Standard library only.

  model_server.py [--host 127.0.0.1] [--port 8000] [--port-file F] [--bars FILE] [--scale K]
--port 0 picks a free port; --port-file writes it (for scripts and tests).
"""
import argparse
import http.server
import math
import os
import socketserver


def forecast(path, scale, hours=168):
    closes = []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) == 2 and parts[0].isdigit():
                closes.append(float(parts[1]))
    if len(closes) <= hours:
        raise ValueError("%d bars, %d needed" % (len(closes), hours + 1))
    return "%.6f" % (scale * math.log(closes[-1] / closes[-1 - hours]))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if len(parts) not in (2, 3) or parts[0] != "inference" or \
                (len(parts) == 3 and parts[2] != "bare"):
            self.answer(404, "text/plain", "not found\n")
            return
        try:
            value = forecast(self.server.bars, self.server.scale)
        except (OSError, ValueError) as e:
            self.answer(503, "text/plain", "no forecast: %s\n" % e)
            return
        if len(parts) == 3:
            self.answer(200, "text/plain", value + "\n")
        else:
            self.answer(200, "application/json",
                        '{"value": %s, "token": "%s"}\n' % (value, parts[1]))

    def answer(self, status, ctype, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description="example model server for allora-workerd")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--port-file")
    ap.add_argument("--bars", default=os.environ.get("BARS_CSV", "bars.csv"))
    ap.add_argument("--scale", type=float, default=0.1)
    a = ap.parse_args()
    srv = Server((a.host, a.port), Handler)
    srv.bars, srv.scale = a.bars, a.scale
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
