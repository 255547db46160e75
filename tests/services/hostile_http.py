#!/usr/bin/env python3
"""hostile_http.py ROOT PORT [LIFETIME] - a small HTTP server on 127.0.0.1 for the fault tests
(tests/check_remote_faults.sh): it serves the files under ROOT (GET with one byte range, HEAD,
PUT), and misbehaves as the file ROOT/.mode says, read at each request:
  ok      answer properly
  drip    send the headers, then the body at 2 bytes/s
  stall   read the request and answer nothing
  reset   send the headers and part of the body, then reset the connection
  quirky  answer as some S3 servers do: GET bodies chunked (no Content-Length), HEAD without
          Content-Length, ETags without their quotes
It also takes S3's multipart uploads (POST ?uploads, PUT ?partNumber=N&uploadId=ID, POST
?uploadId=ID checking each piece's ETag as sent back, DELETE ?uploadId=ID, GET ?uploads),
with no signature checked, so that s3:// can point at it (path style: /BUCKET/KEY).
(PUT obeys stall only.) A second word in .mode limits the misbehaviour to paths holding it (e.g. "drip .part").
Each request is logged to ROOT/.log as "METHOD PATH AUTH" (AUTH: "basic" when an Authorization
header came, else "-"). It writes ROOT/.ready once listening and stops itself after LIFETIME
seconds (default 600), whatever happens, so that a test that dies leaves nothing running."""
import hashlib
import http.server
import os
import re
import urllib.parse
import socket
import struct
import sys
import threading
import time

root, port = sys.argv[1], int(sys.argv[2])
lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 600.0


def mode_for(path):
    try:
        words = open(os.path.join(root, ".mode")).read().split()
    except OSError:
        words = []
    mode = words[0] if words else "ok"
    if len(words) > 1 and words[1] not in path:
        return "ok"
    return mode


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def file(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        if ".." in rel.split("/"):
            return None
        return os.path.join(root, rel)

    def note(self):
        auth = "basic" if self.headers.get("Authorization", "").startswith("Basic ") else "-"
        with open(os.path.join(root, ".log"), "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, auth))

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def query(self):
        return urllib.parse.parse_qs(self.path.partition("?")[2], keep_blank_values=True)

    def reply(self, status, text=b"", etag=None):
        self.send_response(status)
        if etag:
            quoted = mode_for(self.path) != "quirky"
            self.send_header("ETag", '"%s"' % etag if quoted else etag)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_PUT(self):
        self.note()
        if mode_for(self.path) == "stall":
            time.sleep(lifetime)
            return
        data, q = self.body(), self.query()
        path = self.file()
        if "uploadId" in q:  # a piece of a multipart upload
            path = os.path.join(root, ".mp", q["uploadId"][0], q["partNumber"][0])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.reply(200 if "uploadId" in q else 201, etag=hashlib.md5(data).hexdigest())

    def do_POST(self):
        self.note()
        data, q = self.body(), self.query()
        if "uploads" in q:
            uid = hashlib.md5(self.path.encode() + str(time.time()).encode()).hexdigest()
            os.makedirs(os.path.join(root, ".mp", uid))
            self.reply(200, b"<InitiateMultipartUploadResult><UploadId>%s</UploadId>"
                       b"</InitiateMultipartUploadResult>" % uid.encode())
            return
        d = os.path.join(root, ".mp", q.get("uploadId", ["-"])[0])
        out = b""
        for n, etag in re.findall(rb"<PartNumber>(\d+)</PartNumber><ETag>([^<]*)</ETag>", data):
            piece = open(os.path.join(d, n.decode()), "rb").read()
            if etag.strip(b'"') != hashlib.md5(piece).hexdigest().encode():
                self.reply(400, b"<Error><Code>InvalidPart</Code></Error>")
                return
            out += piece
        path = self.file()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(out)
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        os.rmdir(d)
        self.reply(200, b"<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>")

    def do_DELETE(self):
        self.note()
        self.reply(204)

    def answer(self, body):
        self.note()
        mode = mode_for(self.path)
        if "uploads" in self.query():  # the unfinished uploads: none listed
            self.reply(200, b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                       b"</ListMultipartUploadsResult>")
            return
        if mode == "stall":
            time.sleep(lifetime)
            return
        path = self.file()
        try:
            data = open(path, "rb").read() if path and os.path.isfile(path) else None
        except OSError:
            data = None
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, rng = 200, self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            a, b = int(a), min(int(b) if b else len(data) - 1, len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
            data = data[a:b + 1]
        else:
            self.send_response(status)
        if mode == "quirky":  # chunked, and HEAD says no length
            self.send_header("ETag", hashlib.md5(data).hexdigest())
            if body:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data) if body else 0, 7000):
                piece = data[i:i + 7000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if body:
                self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not body:
            return
        if mode == "drip":
            for i in range(0, len(data), 2):
                self.wfile.write(data[i:i + 2])
                self.wfile.flush()
                time.sleep(1)
        elif mode == "reset":
            self.wfile.write(data[:len(data) // 3])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            os.close(self.connection.detach())  # linger 0: the close is a reset
        else:
            self.wfile.write(data)


def stop_later():
    time.sleep(lifetime)
    os._exit(0)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # the connections it resets, and clients that gave up


threading.Thread(target=stop_later, daemon=True).start()
srv = Server(("127.0.0.1", port), Handler)
open(os.path.join(root, ".ready"), "w").close()
try:
    srv.serve_forever()
except (BrokenPipeError, ConnectionResetError):
    pass
