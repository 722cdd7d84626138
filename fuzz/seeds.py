#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/.

Seeds come from the test fixtures (t/lib/bodies/*.json, the provider
bodies the tests serve) and from hand-written inputs below: targets of
every type, templates and field paths as the tests and conf.example
write them, Redis values, resilience sequences.  Run it again when the
fixtures change; file names are content hashes, so reruns only add.

    fuzz/seeds.py [--clean]
"""

import glob
import hashlib
import json
import os
import re
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, 'fuzz', 'corpus')
BODIES = sorted(glob.glob(os.path.join(TOP, 't', 'lib', 'bodies', '*.json')))

RS = b'\x1e'

# type bits of src/ngx_http_osint.h, and the index fuzz_template and
# fuzz_formats take their type from (byte 0 mod 6)
IPV4, IPV6, DOMAIN, EMAIL, URL, HASH = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ANY = 0x40                                  # fuzz_target: bit 6 = any
TYPE_INDEX = {'ipv4': 0, 'ipv6': 1, 'domain': 2, 'email': 3, 'url': 4,
              'hash': 5}


def body(path):
    with open(path, 'rb') as f:
        return f.read()


def minified(data):
    try:
        return json.dumps(json.loads(data), separators=(',', ':')).encode()
    except ValueError:
        return data


def write(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


TARGETS = [
    (IPV4, '8.8.8.8'), (IPV4, ' 1.1.1.1\t'), (IPV4, '010.1.1.1'),
    (IPV4, '1.2.3'), (IPV4, '255.255.255.255'),
    (IPV6, '2001:db8::1'), (IPV6, '[::1]'), (IPV6, '::ffff:1.2.3.4'),
    (IPV6, '2001:0DB8:0000:0000:0000:0000:0000:0001'), (IPV6, 'fe80::1%eth0'),
    (DOMAIN, 'example.com'), (DOMAIN, 'EXAMPLE.Com.'),
    (DOMAIN, '_dmarc.example.com'), (DOMAIN, 'xn--bcher-kva.example'),
    (DOMAIN, 'a-.example'), (DOMAIN, '1.2.3.4.5'), (DOMAIN, 'b\xfccher.de'),
    (DOMAIN, 'a' * 63 + '.com'), (DOMAIN, 'a' * 64 + '.com'),
    (EMAIL, 'user.name+tag@Example.COM'), (EMAIL, 'a..b@example.com'),
    (EMAIL, '"quoted"@example.com'), (EMAIL, 'x@localhost'),
    (URL, 'https://user:pw@Example.com:8443/a/b?q=1#frag'),
    (URL, 'http://[2001:db8::1]:80/'), (URL, 'ftp://1.2.3.4/x'),
    (URL, 'HTTP://EXAMPLE.COM'), (URL, 'http://example.com:/'),
    (URL, 'http://@/'), (URL, 'https://a@b@c.example/'),
    (HASH, 'd41d8cd98f00b204e9800998ecf8427e'),
    (HASH, 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709'),
    (HASH, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    (0, 'ip'), (0, 'domain'), (0, 'IPv4'), (0, ''), (0, 'a b'),
]

TEMPLATES = [
    'https://internetdb.shodan.io/$osint_target',
    'https://ipinfo.io/$osint_target/json',
    'https://dns.google/resolve?name=$osint_target&type=A',
    'https://www.virustotal.com/api/v3/urls/$osint_target_b64url',
    'http://127.0.0.1:8080/all/$osint_target?p=all&t=$osint_target_type',
    'http://127.0.0.1:8080/a/${osint_target}x?k=${osint_api_key}',
    'Authorization: Bearer $osint_api_key',
    'X-$osint_target_type: x',
    'url=$osint_target&host=${osint_target_b64url}',
    'http://127.0.0.1:8080/a/${osint_target',
    'http://127.0.0.1:8080/a/$osint_targte',
    'http://127.0.0.1:8080/a/$',
    '${}',
    '$$$',
    'a\r\nInjected: 1',
]

TEMPLATE_TARGETS = [
    '8.8.8.8', '2001:db8::1', 'example.com', 'user@example.com',
    'https://user:pw@example.com:8443/a/b?q=1#frag', 'a/../b?c=d#e@f:g',
    'x\r\nInjected: 1', 'ab', 'abc', 'abcd',
]

PATHS = [
    '$', '$.ports', '$.nested.country', '$.nested.tags[0]',
    "$['nested'][\"asn\"]", '$.data.attributes.last_analysis_stats',
    '$.Answer[0].data', '$[0]', '$[1][2].a', "$['a b']", '$.a.b.c.d.e',
    '$.', '$[', "$['x", '$[-1]', '$[99999999999999999999]', 'x',
]


def seeds_target():
    for want, t in TARGETS:
        masks = {ANY, want} if want else {ANY, 0}
        for m in masks:
            write('target', bytes([m]) + t.encode('latin-1'))


# fuzz_private: targets of every range and special-use domain, public
# ones beside them, and values of osint_private_nets
PRIVATE_SEEDS = [
    '10.1.2.3', '192.0.2.1', '100.64.0.1', '169.254.169.254', '8.8.4.4',
    '8.8.8.8', '255.255.255.255', '::1', 'fe80::1', 'fd00::1', '2001:db8::1',
    '3fff::1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1',
    '2001:0:a00:1::1', '2a01:4f8:c0de::1', '2606:4700::1111',
    'printer.local', 'db.corp.internal', 'nas.home.arpa', 'a.test',
    'www.example', 'example.com', 'jira.corp.example.com', '10.0.0.0x1',
    '0xa.0.0.0x1', '4.3.2.10.in-addr.arpa', '8.b.d.0.1.0.0.2.ip6.arpa',
    'http://user@10.0.0.1:8080/x', 'http://[fe80::1]/', 'ftp://nas.lan/',
    'admin@corp.internal', 'alice@example.com',
    '10.0.0.0/8', '2a01:4f8:c0de::/48', '1.1.1.1/24', '.corp.example.com',
    '.onion', '.a..b', '::/129',
]


def seeds_private():
    for t in PRIVATE_SEEDS:
        write('private', t.encode('latin-1'))


def seeds_template():
    for i, tpl in enumerate(TEMPLATES):
        for j, t in enumerate(TEMPLATE_TARGETS):
            if (i + j) % 3:
                continue
            write('template', bytes([j % 6]) + tpl.encode() + RS
                  + t.encode() + RS + b'KEY-123')
        write('template', bytes([i % 6]) + tpl.encode() + RS + b'8.8.8.8'
              + RS + b'k e/y')


def seeds_field():
    nested = (b'{"nested":{"country":"US","asn":"AS15169","tags":["a","b"]},'
              b'"a b":1,"Answer":[{"data":"1.2.3.4"}]}')
    write('field', RS.join(p.encode() for p in PATHS[:8]) + RS + nested)
    write('field', RS.join(p.encode() for p in PATHS[8:]) + RS + b'[[1,[0,1,{"a":2}]]]')
    for i, path in enumerate(BODIES):
        paths = PATHS[i % len(PATHS):][:4]
        write('field', RS.join(p.encode() for p in paths) + RS
              + minified(body(path)))


def formats_table():
    """The names of ngx_http_osint_formats[], in order."""
    import re
    src = open(os.path.join(TOP, 'src', 'formats',
                            'ngx_http_osint_formats.c')).read()
    table = src[src.index('ngx_http_osint_formats[]'):]
    return re.findall(r'\{\s*"([a-z0-9_]+)"', table[:table.index('};')])


def summary_byte(status, fmt_index, nformats, type_index=0):
    """fuzz_summary's record byte: status, format, type."""
    b = status + 5 * fmt_index + 5 * nformats * type_index
    return bytes([b % 256])


def seeds_summary():
    names = formats_table()
    n = len(names)
    docs = []
    for path in BODIES:
        base = os.path.basename(path)[:-5]
        fmt = base.split('_')[0]
        idx = names.index(fmt) if fmt in names else 0
        kind = base.split('_')[1] if '_' in base else ''
        t = {'domain': 2, 'url': 4, 'file': 5, 'host': 2, 'a': 2, 'mx': 2,
             'txt': 2}.get(kind, 0)
        docs.append(summary_byte(1, idx, n, t) + minified(body(path)))
    for i in range(0, len(docs), 3):
        write('summary', RS.join(docs[i:i + 4]))
    write('summary', RS.join(docs))
    ok = summary_byte(1, 0, n)
    write('summary', ok + b'{"country":"US","tags":["a","b"],"asn":"AS1"}'
          + RS + ok + b'{"country":"DE","tags":["b","c"],"asn":"AS1"}'
          + RS + summary_byte(3, 0, n) + b'{"country":"FR"}'
          + RS + ok + b'{"country":["US","NL"],"tags":"d","x":{"y":1}}'
          + RS + ok + b'{"x":{"y":2},"x":{"y":1},"n":null,"b":true}')


def encode(status, fresh, data, fp='1a2b3c4d', v=1):
    return (b'{"v":%d,"fp":"%s","status":"%s","fresh_until":%s,"data":%s}'
            % (v, fp.encode(), status.encode(), fresh.encode(), data))


def seeds_cache_decode():
    for path in BODIES[:6]:
        write('cache_decode', encode('ok', '1700000000',
                                     b'{"x":' + minified(body(path)) + b'}'))
    write('cache_decode', encode('ok', '1700000000', b'{"country":"US"}'))
    write('cache_decode', encode('not_found', '1700000000', b'null'))
    write('cache_decode', encode('ok', '0', b'{}'))
    write('cache_decode', encode('ok', '1.5e9', b'[1,2]'))
    write('cache_decode', encode('ok', '1700000000', b'null'))
    write('cache_decode', encode('ok', '1700000000', b'{}', fp='00000000'))
    write('cache_decode', encode('ok', '1700000000', b'{}', v=2))
    write('cache_decode', encode('gone', '1700000000', b'{}'))
    write('cache_decode', b'{"v":1,"fp":"1a2b3c4d","status":"ok",'
          b'"fresh_until":1700000000,"at":1699999000,"data":{"a":1}}')
    write('cache_decode', b'{"v":1,"fp":"1a2b3c4d","status":"ok",'
          b'"fresh_until":1700000000,"at":-5,"data":{"a":1}}')
    write('cache_decode', b'{"v":1}')
    write('cache_decode', b'not json')


def seeds_formats():
    for path in BODIES:
        base = os.path.basename(path)[:-5]
        fmt = base.split('_')[0]
        kind = base.split('_')[1] if '_' in base else ''
        t = {'ip': 'ipv4', 'domain': 'domain', 'url': 'url', 'file': 'hash',
             'host': 'domain', 'autnum': 'ipv4', 'a': 'domain', 'mx': 'domain',
             'txt': 'domain'}.get(kind, 'ipv4')
        data = body(path)
        write('formats', bytes([TYPE_INDEX[t]]) + fmt.encode() + RS + data)
        write('formats', bytes([TYPE_INDEX['domain']]) + fmt.encode() + RS
              + minified(data))


def seeds_resilience():
    def conf(rate, per_min, burst, wait, failures, half_open, cooldown):
        return (struct.pack('>I', rate)
                + struct.pack('>I', ((burst - 1) << 1) | per_min)
                + struct.pack('>I', wait)
                + bytes([failures - 1, half_open - 1])
                + struct.pack('>H', cooldown - 1))

    def op(code, arg):
        return bytes([code]) + struct.pack('>I', arg)[1:]

    take, fwd, back, drain, admit, rec, probe, rel, backoff, quota, reload = \
        (2, 0, 1, 3, 4, 5, 6, 7, 8, 9, 10)

    base = conf(10, 0, 5, 1000, 3, 2, 1000)
    write('resilience', base + b''.join(op(take, 1000) for _ in range(8))
          + op(fwd, 100) + op(take, 0) + op(back, 50) + op(take, 0)
          + op(drain, 0) + op(take, 250))
    write('resilience', base + op(rec, 1) + op(rec, 1) + op(rec, 1)
          + op(admit, 0) + op(fwd, 1000) + op(admit, 0) + op(admit, 0)
          + op(admit, 0) + op(probe, 1) + op(fwd, 1000) + op(admit, 0)
          + op(rel, 0) + op(admit, 0) + op(probe, 0) + op(probe, 0))
    write('resilience', conf(30, 1, 2, 60000, 1, 1, 1) + op(take, 60000)
          + op(take, 60000) + op(reload, 0) + conf(1, 0, 1, 0, 5, 3, 500)
          + op(take, 0) + op(backoff, 0x3fffff) + op(quota, 2)
          + op(quota, 1) + op(quota, 0))


# the files whose inputs seed the targets of the query and the directives
TESTS = sorted(glob.glob(os.path.join(TOP, 't', '*.t')))
CONF_EXAMPLE = os.path.join(TOP, 'conf.example')


def test_texts():
    for path in TESTS + [CONF_EXAMPLE]:
        with open(path, 'rb') as f:
            yield f.read()


def seeds_batch_body():
    """Byte 0: osint_batch_max - 1 (t/16-batch.t has 5), then the body."""
    bodies = [
        b'{"targets":["10.0.0.1","example.com","not a target",42,"10.0.0.2"]}',
        b'{"targets":["1.1.1.1"]}\r\n', b'not json',
        b'{"targets":"8.8.8.8"}', b'{"nope":[]}', b'{"targets":[]}',
        b'{"targets":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4","1.1.1.5",'
        b'"1.1.1.6"]}', b'',
        b'{"targets":["1.1.1.1"],"targets":["1.1.1.2"]}',
        b'{"targets":["1.1.1.1"],"t\\u0061rgets":["1.1.1.2"]}',
        b'{"targets":["1.1.1.1"],"targets\\u0000x":[]}',
        b'{"targets":["1.1.1.1"]} x', b'{"targets":["1.1.1.1\x00x"]}',
        b'{"targets":["1.1.1.1"]}{"targets":["1.1.1.2"]}', b'["targets"]',
        b'{"targets":[' + b'[' * 998 + b']' * 998 + b']}',
        b'{"targets":[' + b'[' * 1000 + b']' * 1000 + b']}',
        b'\xef\xbb\xbf{"Targets":["a"],"targets":[null,{},"b@example.com"]}',
    ]
    for b in bodies:
        write('batch_body', b'\x04' + b)
    write('batch_body', b'\xff' + bodies[0])


def seeds_args():
    """Query strings of the tests' GET /lookup, and of every argument."""
    for text in test_texts():
        for q in re.findall(rb'/lookup\?([^\'"\s,)$]+)', text):
            write('args', q)
    for q in [b'target=8.8.8.8&type=IPv4&refresh=0&providers=vt,,abuseipdb,',
              b'providers=p63,p62,a-b,x_1&refresh=1&type=hash',
              b'PROVIDERS=vt%2Cipinfo&Type=%69p&refresh=%31',
              b'providers=vt,nope,also-nope&target=%zz%4&type=%',
              b'target=' + b'a' * 6145 + b'&providers=' + b'%41' * 2048,
              b'providers=,&type=&refresh=&target=']:
        write('args', q)


def seeds_conf_args():
    """Arguments of rate, quota, retries, breaker, cache_ttl, timeout and
    osint_limit_zone/osint_limit in the tests and conf.example."""
    directive = re.compile(rb'^\s*(rate|quota|retries|breaker|cache_ttl|'
                           rb'timeout|osint_limit_zone|osint_limit)\s+'
                           rb'([^;\n]*);', re.M)
    for text in test_texts():
        for _, args in directive.findall(text):
            for arg in args.split():
                if b'%%' not in arg and b'$' not in arg[:1]:
                    write('conf_args', arg)
    for arg in [b'9223372036854775807r/s', b'9223372036854775808r/m',
                b'0r/s', b'r/s', b'10r/h', b'5/mo', b'5/h/d', b'/d',
                b'wait=1y', b'wait=1M', b'cooldown=1d 2h 3m 4s 5ms',
                b'stale=9223372036854s', b'burst=007', b'failures=-1',
                b'half_open=', b'zone-name.1', b'a' * 65]:
        write('conf_args', arg)


def seeds_regressions():
    """Inputs of findings, kept so that every run replays them."""
    # *len of an expansion with $osint_target_b64url and a target whose
    # length is not a multiple of 3 counted base64 padding never written
    write('template', b'\x02url=$osint_target_b64url' + RS + b'ab' + RS + b'k')
    # a quoted empty key compiled as an index step of -1
    write('field', b"$['']" + RS + b'{"":1}')
    # an index beyond int compiled, truncated by cJSON_GetArrayItem(int)
    write('field', b'$[4294967297]' + RS + b'[0,1,2]')
    # fresh_until beyond time_t: UB converting the double
    write('cache_decode', encode('ok', '1e300', b'{"a":1}'))
    write('cache_decode', encode('not_found', '9223372036854775807', b'null'))
    # cJSON skips a BOM by the length it is given: a BOM and one byte
    # is invalid to the module, a number to a NUL-terminated parser
    write('batch_body', b'\x0d\xef\xbb\xbf0')
    # a provider field named "verdict" next to a provider of a built-in
    # format: two "verdict" members in the summary
    names = formats_table()
    builtin = next(i for i, n in enumerate(names) if n != 'json')
    write('summary', summary_byte(1, 0, len(names)) + b'{"verdict":"mine"}'
          + RS + summary_byte(1, names.index('internetdb')
                              if 'internetdb' in names else builtin,
                              len(names))
          + b'{"ip":"1.2.3.4","ports":[80],"hostnames":[],"tags":[],'
            b'"cpes":[],"vulns":[]}')


def main():
    if '--clean' in sys.argv:
        for f in glob.glob(os.path.join(CORPUS, '*', '*')):
            os.unlink(f)

    seeds_target()
    seeds_private()
    seeds_template()
    seeds_field()
    seeds_summary()
    seeds_cache_decode()
    seeds_formats()
    seeds_resilience()
    seeds_batch_body()
    seeds_args()
    seeds_conf_args()
    seeds_regressions()

    for d in sorted(os.listdir(CORPUS)):
        print('%-14s %3d seeds' % (d, len(os.listdir(os.path.join(CORPUS, d)))))


if __name__ == '__main__':
    main()
