// moog-sink: the Moogsoft stand-in of the capacity ladder, in a process of its own. It answers every
// POST as the REST LAM does (200, {"success":true,"message":"Event Processed"}) and counts the
// events by the token each alert's description carries, `[cap sSS-NNNNNNNNNN]` (step, sequence
// number): one byte per message sent says how often it arrived — exact, without a set of millions
// of ids. Its own small heap keeps garbage collection (which marks the whole heap, and runs about
// once a second as request bodies come and go) cheap; in the benchmark's process, whose heap holds
// the whole benchmark, it cost more CPU per event than some of MUTT's stages.
//
// Parent → sink (IPC): {type:'reset', id, step, size} starts counting `step` (messages 0 … size-1);
// {type:'stats', id} reads the counts. Both are answered {type:'stats', id, delivered, duplicates,
// arrivals}.
// Sink → parent: {type:'listening', port} once it accepts connections.
import http from 'node:http';

const DESCRIPTION = Buffer.from('"description":"');
const TOKEN = Buffer.from('[cap s');
const ANSWER = JSON.stringify({ success: true, message: 'Event Processed' });

let step = -1;
let counts = new Uint8Array(0);
let delivered = 0;
let duplicates = 0;
let arrivals = 0;

function tally(body) {
  for (let i = body.indexOf(DESCRIPTION); i >= 0; i = body.indexOf(DESCRIPTION, i + DESCRIPTION.length)) {
    const end = body.indexOf(0x22, i + DESCRIPTION.length); // the description's closing quote
    const t = body.indexOf(TOKEN, i + DESCRIPTION.length);
    if (t < 0 || t > end) continue;
    arrivals++;
    const at = t + TOKEN.length;
    if ((body[at] - 48) * 10 + (body[at + 1] - 48) !== step) continue;
    let seq = 0;
    for (let k = at + 3; k < at + 13; k++) seq = seq * 10 + (body[k] - 48);
    if (seq >= counts.length) continue;
    const c = counts[seq];
    if (c === 0) delivered++;
    else duplicates++;
    if (c < 255) counts[seq] = c + 1;
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST') tally(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(ANSWER) });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (m) => {
  if (m.type === 'reset') {
    step = m.step;
    counts = new Uint8Array(m.size);
    delivered = 0;
    duplicates = 0;
    arrivals = 0;
  }
  process.send({ type: 'stats', id: m.id, delivered, duplicates, arrivals });
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
