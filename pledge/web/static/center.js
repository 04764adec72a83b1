// Checks a disclosure's audit proof in the browser, trusting nothing the server says about it:
// the entry's bytes are hashed as an RFC 6962 leaf, the inclusion path is climbed to a root,
// the root must be the one in the signed checkpoint (a C2SP signed note), and the note's
// Ed25519 signature must verify under the log's key (WebCrypto).
"use strict";

const te = new TextEncoder();

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function fromHex(text) {
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// RFC 9162 section 2.1.3.2: the root an inclusion path leads to, or null if malformed.
async function rootFromPath(leaf, index, size, path) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat([1], p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await sha256(concat([1], r, p));
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// A C2SP signed note: its signed text, origin, size, root, and the signature lines.
function parseNote(note) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint is not a signed note");
  const body = note.slice(0, split + 1);
  const [origin, size, root] = body.split("\n");
  const signatures = note.slice(split + 2).split("\n").filter((l) => l.startsWith("\u2014 "))
    .map((l) => { const [, name, stamp] = l.split(" "); return { name, raw: fromBase64(stamp) }; });
  return { body, origin, size: Number(size), root: fromBase64(root), signatures };
}

async function verifyProof(proof, publicKey) {
  const entry = fromBase64(proof.entry_bytes);
  const leaf = await sha256(concat([0], entry));
  const path = proof.proof.map(fromHex);
  const root = await rootFromPath(leaf, proof.leaf_index, proof.tree_size, path);
  if (root === null) return { ok: false, why: "the inclusion path is malformed" };
  const note = parseNote(proof.checkpoint);
  if (note.size !== proof.tree_size) return { ok: false, why: "the checkpoint is for another tree size" };
  if (!same(root, note.root)) return { ok: false, why: "the path does not lead to the signed root" };
  const keyId = (await sha256(concat(te.encode(note.origin + "\n"), [1], publicKey))).slice(0, 4);
  const line = note.signatures.find((s) => s.name === note.origin && same(s.raw.slice(0, 4), keyId));
  if (!line) return { ok: false, why: "the checkpoint is not signed with the log's key" };
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    return { ok: false, why: "this browser cannot check Ed25519 signatures (the hash path did verify)" };
  }
  const signed = await crypto.subtle.verify({ name: "Ed25519" }, key, line.raw.slice(4), te.encode(note.body));
  if (!signed) return { ok: false, why: "the checkpoint's signature is not valid" };
  const text = new TextDecoder().decode(entry);
  const record = JSON.parse(text.slice(text.indexOf("\n") + 1));
  return { ok: true, record, size: note.size };
}

async function check(button) {
  const result = document.getElementById(button.getAttribute("aria-describedby"));
  result.textContent = "Checking…";
  result.className = "proof-result";
  try {
    const response = await fetch(button.dataset.proof, { credentials: "same-origin" });
    if (!response.ok) throw new Error("the proof could not be fetched (" + response.status + ")");
    const proof = await response.json();
    const keyText = document.getElementById("log-key").dataset.key;
    const outcome = await verifyProof(proof, fromBase64(keyText));
    if (outcome.ok && outcome.record.action === "disclose" &&
        outcome.record.actor === "recipient '" + button.dataset.recipient + "'") {
      result.textContent = "Verified: entry " + proof.leaf_index + " of " + outcome.size +
        " records a disclosure to " + button.dataset.recipient +
        " at " + outcome.record.at.slice(0, 16).replace("T", " ") + ", signed by the log.";
      result.className = "proof-result ok";
      result.dataset.verified = "true";
    } else {
      result.textContent = "Not verified: " + (outcome.why || "the entry is not a disclosure") + ".";
      result.className = "proof-result bad";
      result.dataset.verified = "false";
    }
  } catch (error) {
    result.textContent = "Not verified: " + error.message + ".";
    result.className = "proof-result bad";
    result.dataset.verified = "false";
  }
}

// Loaded with defer: the page is parsed by now.
for (const button of document.querySelectorAll("button.verify")) {
  button.addEventListener("click", () => check(button));
}
