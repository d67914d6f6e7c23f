// shs_kat.js - a known-answer vector of the secret handshake and box-stream
// made by the npm reference (secret-handshake 1.1.21's stateless crypto,
// pull-box-stream 1.0.13) from fixed seeds: the four messages, both
// directions' keys and nonces, and a 5000-byte text boxed by the client.
// tests/golden/shs-kat.txt is its output; test_shs compares vledger's
// functions with that file, and shs_interop.sh checks the file is still
// what the reference makes. Usage: node shs_kat.js > shs-kat.txt
'use strict'
var shs = require('secret-handshake/crypto')
var sodium = require('chloride')
var pull = require('pull-stream')
var boxes = require('pull-box-stream')

function fill (b) { return Buffer.alloc(32, b) }
var K = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')
var alice = sodium.crypto_sign_seed_keypair(fill(0x01))
var bob = sodium.crypto_sign_seed_keypair(fill(0x02))
var out = []
function put (name, b) { out.push(name + ' ' + Buffer.from(b).toString('hex')) }

var c = shs.initialize({ app_key: K, local: alice, remote: { publicKey: bob.publicKey }, random: fill(0x11) })
var s = shs.initialize({ app_key: K, local: bob, random: fill(0x22) })
var m1 = shs.createChallenge(c)
if (!(s = shs.verifyChallenge(s, m1))) throw new Error('msg1')
var m2 = shs.createChallenge(s)
if (!(c = shs.clientVerifyChallenge(c, m2))) throw new Error('msg2')
var m3 = shs.clientCreateAuth(c)
if (!(s = shs.serverVerifyAuth(s, m3))) throw new Error('msg3')
var m4 = shs.serverCreateAccept(s)
if (!(c = shs.clientVerifyAccept(c, m4))) throw new Error('msg4')
c = shs.clean(c)
s = shs.clean(s)
put('msg1', m1); put('msg2', m2); put('msg3', m3); put('msg4', m4)
var cEncNonce = c.remote.app_mac.slice(0, 24)
var cDecNonce = c.local.app_mac.slice(0, 24)
put('client_enc_key', c.encryptKey); put('client_enc_nonce', cEncNonce)
put('client_dec_key', c.decryptKey); put('client_dec_nonce', cDecNonce)
put('server_enc_key', s.encryptKey); put('server_enc_nonce', s.remote.app_mac.slice(0, 24))

var text = Buffer.alloc(5000)
for (var i = 0; i < text.length; i++) text[i] = (i * 31 + 7) & 0xff
pull(pull.values([text]), boxes.createBoxStream(c.encryptKey, cEncNonce), pull.collect(function (err, parts) {
  if (err) throw err
  put('box_stream', Buffer.concat(parts))
  console.log(out.join('\n'))
}))
