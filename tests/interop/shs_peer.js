// shs_peer.js - the npm reference (secret-handshake 1.1.21 over
// pull-box-stream 1.0.13) as one end of a channel, for tests/interop/shs_interop.sh.
//   node shs_peer.js server NETKEY_HEX SEED_HEX CLIENT_PK_HEX BYTES
//     listens on 127.0.0.1, prints "port N", accepts one connection
//   node shs_peer.js client PORT NETKEY_HEX SEED_HEX SERVER_PK_HEX BYTES
// Each end sends BYTES bytes of its role's pattern (byte i = (i*31 + 1)
// for the client, (i*31 + 2) for the server, mod 256) and then goodbye, and
// checks it receives exactly the other role's pattern and the peer's key.
// Exit 0 and "ok" on success; 1 with a reason otherwise.
'use strict'
var net = require('net')
var pull = require('pull-stream')
var toPull = require('stream-to-pull-stream')
var SHS = require('secret-handshake')
var sodium = require('chloride')

function pattern (n, tag) {
  var b = Buffer.alloc(n)
  for (var i = 0; i < n; i++) b[i] = (i * 31 + tag) & 0xff
  return b
}
function die (msg) {
  console.error('shs_peer.js: ' + msg)
  process.exit(1)
}

var role = process.argv[2]
var args = process.argv.slice(role === 'client' ? 4 : 3)
var netkey = Buffer.from(args[0], 'hex')
var me = sodium.crypto_sign_seed_keypair(Buffer.from(args[1], 'hex'))
var peerPk = Buffer.from(args[2], 'hex')
var bytes = parseInt(args[3], 10)
var mine = pattern(bytes, role === 'client' ? 1 : 2)
var theirs = pattern(bytes, role === 'client' ? 2 : 1)

setTimeout(function () { die('timed out') }, 20000).unref()

function talk (err, stream) {
  if (err) die('handshake failed: ' + err.message)
  if (!Buffer.from(stream.remote).equals(peerPk)) die('peer key differs')
  var chunks = [], done = 0
  function finish () { if (++done === 2) { console.log('ok'); process.exit(0) } }
  // send in uneven pieces so boxes cross write boundaries
  var parts = [], off = 0, step = 1000
  while (off < mine.length) { parts.push(mine.slice(off, off + step)); off += step; step = step * 3 % 9001 + 1 }
  pull(pull.values(parts), stream.sink)
  pull(stream.source, pull.collect(function (err, got) {
    if (err) die('stream error: ' + err.message)
    var all = Buffer.concat(got)
    if (!all.equals(theirs)) die('received ' + all.length + ' bytes, not the ' + theirs.length + ' expected')
    finish()
  }))
  // the sink ends with the goodbye; 'finish' once the OS has all of it
  if (sockRef.writableFinished) finish()
  else sockRef.on('finish', finish)
}
var sockRef = null

if (role === 'server') {
  var server = SHS.createServer(me, function (id, cb) {
    cb(null, Buffer.from(id).equals(peerPk))
  }, netkey, 10000)
  var srv = net.createServer(function (sock) {
    srv.close()
    sockRef = sock
    var s = toPull.duplex(sock)
    pull(s, server(talk), s)
  })
  srv.listen(0, '127.0.0.1', function () { console.log('port ' + srv.address().port) })
} else if (role === 'client') {
  var client = SHS.createClient(me, netkey, 10000)
  var sock = net.connect(parseInt(process.argv[3], 10), '127.0.0.1', function () {
    sockRef = sock
    var s = toPull.duplex(sock)
    pull(s, client(peerPk, talk), s)
  })
  sock.on('error', function (e) { die('connect: ' + e.message) })
} else {
  die('usage: shs_peer.js server|client ...')
}
