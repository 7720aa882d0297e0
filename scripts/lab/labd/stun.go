//go:build linux

package main

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// A minimal STUN/TURN message codec (RFC 8489, RFC 8656): enough for
// binding requests and answers, and a TURN Allocate with long-term
// credentials.

const (
	stunMagic = 0x2112A442

	stunBindingRequest  = 0x0001
	stunBindingSuccess  = 0x0101
	turnAllocateRequest = 0x0003
	turnAllocateSuccess = 0x0103
	turnAllocateError   = 0x0113
	turnRefreshRequest  = 0x0004

	attrMappedAddress     = 0x0001
	attrUsername          = 0x0006
	attrMessageIntegrity  = 0x0008
	attrErrorCode         = 0x0009
	attrLifetime          = 0x000D
	attrRealm             = 0x0014
	attrNonce             = 0x0015
	attrXORRelayedAddress = 0x0016
	attrRequestedTranspt  = 0x0019
	attrXORMappedAddress  = 0x0020
	attrSoftware          = 0x8022
	attrFingerprint       = 0x8028
	attrResponseOrigin    = 0x802B
	attrOtherAddress      = 0x802C
)

type stunAttr struct {
	typ uint16
	val []byte
}

type stunMsg struct {
	typ   uint16
	txid  [12]byte
	attrs []stunAttr
}

func newTxID() (id [12]byte) {
	_, _ = rand.Read(id[:])
	return id
}

func (m *stunMsg) add(typ uint16, val []byte) { m.attrs = append(m.attrs, stunAttr{typ, val}) }

func (m *stunMsg) get(typ uint16) []byte {
	for _, a := range m.attrs {
		if a.typ == typ {
			return a.val
		}
	}
	return nil
}

func (m *stunMsg) encodeAttrs() []byte {
	var b []byte
	for _, a := range m.attrs {
		b = binary.BigEndian.AppendUint16(b, a.typ)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.val)))
		b = append(b, a.val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func (m *stunMsg) header(bodyLen int) []byte {
	b := make([]byte, 20, 20+bodyLen)
	binary.BigEndian.PutUint16(b[0:], m.typ)
	binary.BigEndian.PutUint16(b[2:], uint16(bodyLen))
	binary.BigEndian.PutUint32(b[4:], stunMagic)
	copy(b[8:], m.txid[:])
	return b
}

// encode serialises m; with key != nil it appends MESSAGE-INTEGRITY, and
// always a FINGERPRINT.
func (m *stunMsg) encode(key []byte) []byte {
	body := m.encodeAttrs()
	if key != nil {
		b := append(m.header(len(body)+24), body...)
		mac := hmac.New(sha1.New, key)
		mac.Write(b)
		body = binary.BigEndian.AppendUint16(body, attrMessageIntegrity)
		body = binary.BigEndian.AppendUint16(body, 20)
		body = mac.Sum(body)
	}
	b := append(m.header(len(body)+8), body...)
	crc := crc32.ChecksumIEEE(b) ^ 0x5354554e
	b = binary.BigEndian.AppendUint16(b, attrFingerprint)
	b = binary.BigEndian.AppendUint16(b, 4)
	return binary.BigEndian.AppendUint32(b, crc)
}

func isSTUN(b []byte) bool {
	return len(b) >= 20 && b[0]&0xc0 == 0 && binary.BigEndian.Uint32(b[4:]) == stunMagic &&
		int(binary.BigEndian.Uint16(b[2:]))+20 <= len(b)
}

func decodeSTUN(b []byte) (*stunMsg, error) {
	if !isSTUN(b) {
		return nil, errors.New("not a STUN message")
	}
	m := &stunMsg{typ: binary.BigEndian.Uint16(b)}
	copy(m.txid[:], b[8:20])
	body := b[20 : 20+int(binary.BigEndian.Uint16(b[2:]))]
	for len(body) >= 4 {
		t, n := binary.BigEndian.Uint16(body), int(binary.BigEndian.Uint16(body[2:]))
		if 4+n > len(body) {
			return nil, errors.New("truncated STUN attribute")
		}
		m.add(t, body[4:4+n])
		body = body[min(len(body), 4+(n+3)/4*4):]
	}
	return m, nil
}

func xorAddr(ap netip.AddrPort, txid [12]byte) []byte {
	b := []byte{0, 1}
	b = binary.BigEndian.AppendUint16(b, ap.Port()^(stunMagic>>16))
	a := ap.Addr().Unmap()
	if a.Is6() {
		b[1] = 2
	}
	var pad [16]byte
	binary.BigEndian.PutUint32(pad[:], stunMagic)
	copy(pad[4:], txid[:])
	for i, x := range a.AsSlice() {
		b = append(b, x^pad[i])
	}
	return b
}

func parseXORAddr(v []byte, txid [12]byte) (netip.AddrPort, error) {
	if len(v) < 8 {
		return netip.AddrPort{}, errors.New("short address attribute")
	}
	port := binary.BigEndian.Uint16(v[2:]) ^ (stunMagic >> 16)
	var pad [16]byte
	binary.BigEndian.PutUint32(pad[:], stunMagic)
	copy(pad[4:], txid[:])
	raw := append([]byte(nil), v[4:]...)
	for i := range raw {
		raw[i] ^= pad[i]
	}
	a, ok := netip.AddrFromSlice(raw)
	if !ok {
		return netip.AddrPort{}, errors.New("bad address")
	}
	return netip.AddrPortFrom(a, port), nil
}

func parsePlainAddr(v []byte) (netip.AddrPort, error) {
	if len(v) < 8 {
		return netip.AddrPort{}, errors.New("short address attribute")
	}
	a, ok := netip.AddrFromSlice(v[4:])
	if !ok {
		return netip.AddrPort{}, errors.New("bad address")
	}
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(v[2:])), nil
}

func errorCode(v []byte) (int, string) {
	if len(v) < 4 {
		return 0, ""
	}
	return int(v[2]&7)*100 + int(v[3]), string(v[4:])
}

func longTermKey(user, realm, pass string) []byte {
	s := md5.Sum([]byte(fmt.Sprintf("%s:%s:%s", user, realm, pass)))
	return s[:]
}
