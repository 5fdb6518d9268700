package io.peekd.domain;

import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.capture.ProcKey;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Chooses the domain of a flow from every kind of evidence the kernel hands
 * us, preferring what is tied to this flow and this process:
 * <ol>
 *   <li>the flow's own first bytes: TLS SNI, HTTP Host, proxy CONNECT (high);</li>
 *   <li>a DNS answer or getaddrinfo() result received by this process (high, or
 *       medium and "ambiguous" when several names share the address);</li>
 *   <li>a DNS answer received by another process in the same cgroup — container, service or session (medium);</li>
 *   <li>a DNS answer received by any other process (low: it may name a different site on a shared CDN address);</li>
 *   <li>a reverse (PTR) lookup, done off the capture path (low).</li>
 * </ol>
 * Thread-safe: events arrive on the ring thread, attribution happens on the drain thread.
 */
public final class DomainResolver {
    /** Answers outlive their TTL by this much: connections often start just after expiry. */
    private static final long GRACE_NS = 300_000_000_000L;
    private static final long MIN_TTL_NS = 60_000_000_000L;
    private static final int MAX_PER_PROCESS = 4096, MAX_GLOBAL = 65536, MAX_FLOWS = 65536;

    private final DnsAnswers dns = new DnsAnswers();
    private final TlsClientHello tls = new TlsClientHello();
    private final HttpRequestHead http = new HttpRequestHead();
    private final QuicInitial quic = new QuicInitial();
    private final LongSupplier clockNs;
    private final ReverseLookup ptr;
    private final AtomicLong evidenceSeen = new AtomicLong();

    /** A name learned for an address. */
    private record Name(String name, String source, long expiresNs, ProcKey owner, List<String> cnames) {
    }

    private record FlowEvidence(String name, String source, boolean encrypted) {
    }

    /**
     * A socket by its endpoints. The process is left out on purpose: a QUIC
     * socket's first datagram can leave before the kernel knows its owner, and
     * the endpoints already name one socket.
     */
    private record FlowId(int proto, int lport, int rport, String raddr) {
        static FlowId of(FlowKey k) {
            return new FlowId(k.proto(), k.lport(), k.rport(), Arrays.toString(k.raddr()));
        }
    }

    private final Map<ProcKey, Map<InetAddress, List<Name>>> byProcess = new HashMap<>();
    /** Answers per cgroup (a container, a service, a session scope): siblings often share one resolver. */
    private final Map<Long, Map<InetAddress, List<Name>>> byCgroup = lru(4096);
    private final Map<ProcKey, Long> cgroupOf = lru(65536);
    private final Map<InetAddress, List<Name>> global = lru(MAX_GLOBAL);
    private final Map<FlowId, FlowEvidence> byFlow = lru(MAX_FLOWS);
    private final Map<ProcKey, Long> exited = new HashMap<>();
    private static final long EXITED_KEEP_NS = 600_000_000_000L, SWEEP_NS = 10_000_000_000L;
    private long lastSweep;

    public DomainResolver(LongSupplier clockNs, ReverseLookup ptr) {
        this.clockNs = clockNs;
        this.ptr = ptr;
    }

    private static <K, V> Map<K, V> lru(int max) {
        return new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> e) {
                return size() > max;
            }
        };
    }

    /** Feeds kernel evidence; anything else is ignored. Never throws on hostile bytes. */
    public void onEvent(KernelEvent e) {
        switch (e) {
            case KernelEvent.Payload p when p.dns() -> onDns(p);
            case KernelEvent.Payload p -> onFirstBytes(p);
            case KernelEvent.Resolved r -> onResolved(r);
            case KernelEvent.Exit x -> forget(new ProcKey(x.tgid(), x.startNs()));
            case KernelEvent.Exec x -> placed(new ProcKey(x.tgid(), x.startNs()), x.cgroupId());
            case KernelEvent.NewFlow f -> placed(f.key().proc(), f.cgroupId());
            default -> { }
        }
    }

    private void onDns(KernelEvent.Payload p) {
        boolean tcp = p.key().proto() == 6;
        List<ParseResult<DnsAnswer>> results = tcp ? dns.parseTcp(p.data()) : List.of(dns.parseUdp(p.data()));
        ProcKey owner = p.key().tgid() == 0 ? null : p.key().proc();
        for (ParseResult<DnsAnswer> r : results) {
            if (!(r instanceof ParseResult.Parsed<DnsAnswer>(DnsAnswer a))) continue;
            for (DnsAnswer.Address addr : a.addresses()) {
                long ttlNs = Math.max(MIN_TTL_NS, Math.min(addr.ttl(), 86_400) * 1_000_000_000L);
                remember(owner, addr.address(), new Name(a.name(), "dns", clockNs.getAsLong() + ttlNs + GRACE_NS, owner,
                        a.cnames()));
            }
        }
    }

    private void onResolved(KernelEvent.Resolved r) {
        Optional<String> name = DomainNames.normalize(r.name()).parsed();
        if (name.isEmpty() || looksLikeAddress(r.name())) return;
        ProcKey owner = new ProcKey(r.tgid(), r.startNs());
        for (InetAddress a : r.addresses())
            remember(owner, a, new Name(name.get(), "getaddrinfo", clockNs.getAsLong() + MIN_TTL_NS + GRACE_NS, owner, List.of()));
    }

    private void onFirstBytes(KernelEvent.Payload p) {
        FlowEvidence ev = null;
        if (p.key().proto() == 17) {
            if (quic.parse(p.data()) instanceof ParseResult.Parsed<ClientHello>(ClientHello ch)) {
                boolean ech = ch.status() == ClientHello.SniStatus.ENCRYPTED;
                ev = new FlowEvidence(ech ? null : ch.serverName().orElse(null), "quic", ech);
            }
        } else if (p.data().length > 0 && p.data()[0] == 0x16) {
            if (tls.parse(p.data()) instanceof ParseResult.Parsed<ClientHello>(ClientHello ch)) {
                boolean ech = ch.status() == ClientHello.SniStatus.ENCRYPTED;
                ev = new FlowEvidence(ech ? null : ch.serverName().orElse(null), "sni", ech);
            }
        } else if (http.parse(p.data()) instanceof ParseResult.Parsed<HttpHead>(HttpHead h)) {
            ev = h.domain().map(d -> new FlowEvidence(d, h.isConnect() ? "connect" : "http", false)).orElse(null);
        }
        if (ev == null || (ev.name() == null && !ev.encrypted())) return;
        evidenceSeen.incrementAndGet();
        synchronized (this) {
            byFlow.put(FlowId.of(p.key()), ev);
        }
    }

    private synchronized void placed(ProcKey p, long cgroupId) {
        if (cgroupId != 0) cgroupOf.put(p, cgroupId);
    }

    private synchronized void remember(ProcKey owner, InetAddress a, Name n) {
        evidenceSeen.incrementAndGet();
        if (owner != null) {
            Map<InetAddress, List<Name>> m = byProcess.computeIfAbsent(owner, k -> lru(MAX_PER_PROCESS));
            replace(m.computeIfAbsent(a, k -> new ArrayList<>(2)), n);
            Long cg = cgroupOf.get(owner);
            if (cg != null) replace(byCgroup.computeIfAbsent(cg, k -> lru(MAX_PER_PROCESS))
                    .computeIfAbsent(a, k -> new ArrayList<>(2)), n);
        }
        replace(global.computeIfAbsent(a, k -> new ArrayList<>(2)), n);
    }

    /** Keeps one entry per (name, owner): a newer answer refreshes the expiry. */
    private static void replace(List<Name> names, Name n) {
        names.removeIf(x -> x.name().equals(n.name()) && java.util.Objects.equals(x.owner(), n.owner()));
        names.add(n);
        if (names.size() > 16) names.removeFirst();
    }

    /**
     * A process's evidence outlives it for a while: its last flows are
     * attributed when their window closes, after the exit.
     */
    private synchronized void forget(ProcKey p) {
        long now = clockNs.getAsLong();
        exited.put(p, now);
        if (now - lastSweep < SWEEP_NS) return;
        lastSweep = now;
        for (Iterator<Map.Entry<ProcKey, Long>> it = exited.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ProcKey, Long> e = it.next();
            if (now - e.getValue() < EXITED_KEEP_NS) continue;
            byProcess.remove(e.getKey());
            it.remove();
        }
    }

    /** The domain of a flow now. Cheap: no I/O; a PTR lookup, if needed, is only started here. */
    public Attribution attribute(FlowKey k) {
        if (k.ipVersion() == 0) return Attribution.NONE;
        InetAddress raddr = address(k);
        FlowEvidence fe;
        List<Name> mine, siblings, all;
        long now = clockNs.getAsLong();
        synchronized (this) {
            fe = byFlow.get(FlowId.of(k));
            Map<InetAddress, List<Name>> pm = byProcess.get(k.proc());
            mine = live(pm == null ? null : pm.get(raddr), now);
            Long cg = cgroupOf.get(k.proc());
            Map<InetAddress, List<Name>> cm = cg == null ? null : byCgroup.get(cg);
            siblings = live(cm == null ? null : cm.get(raddr), now);
            all = live(global.get(raddr), now);
        }
        if (fe != null && fe.name() != null) return new Attribution(fe.name(), fe.source(), "high", "ok");
        String status = fe != null && fe.encrypted() ? "encrypted" : "ok";
        List<String> mineNames = mine.stream().map(Name::name).distinct().toList();
        if (!mineNames.isEmpty()) {
            Name newest = mine.getLast();
            boolean single = mineNames.size() == 1;
            return new Attribution(newest.name(), newest.source(), single ? "high" : "medium",
                    single ? status : "ambiguous");
        }
        List<String> sibNames = siblings.stream().map(Name::name).distinct().toList();
        if (!sibNames.isEmpty()) {
            Name newest = siblings.getLast();
            return new Attribution(newest.name(), newest.source(), "medium", sibNames.size() == 1 ? status : "ambiguous");
        }
        List<String> allNames = all.stream().map(Name::name).distinct().toList();
        if (!allNames.isEmpty()) {
            Name newest = all.getLast();
            return new Attribution(newest.name(), newest.source(), "low", allNames.size() == 1 ? status : "ambiguous");
        }
        if (raddr != null && ptr != null && !raddr.isLoopbackAddress() && !raddr.isAnyLocalAddress()) {
            Optional<String> rev = ptr.cached(raddr);
            if (rev.isPresent()) return new Attribution(rev.get(), "ptr", "low", status);
        }
        return fe != null && fe.encrypted() ? new Attribution(null, "sni", null, "encrypted") : Attribution.NONE;
    }

    private static List<Name> live(List<Name> names, long now) {
        if (names == null) return List.of();
        List<Name> out = new ArrayList<>(names.size());
        for (Iterator<Name> it = names.iterator(); it.hasNext(); ) {
            Name n = it.next();
            if (n.expiresNs() < now) it.remove();
            else out.add(n);
        }
        return out;
    }

    private static InetAddress address(FlowKey k) {
        try {
            return InetAddress.getByAddress(k.ipVersion() == 4 ? Arrays.copyOf(k.raddr(), 4) : k.raddr());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static boolean looksLikeAddress(String s) {
        return s.indexOf(':') >= 0 || s.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    }

    /** Parser rejection counters, for metrics: hostile packets are counted, never thrown. */
    public Map<String, Long> rejected() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("dns", dns.counters().rejectedTotal());
        m.put("tls", tls.counters().rejectedTotal());
        m.put("http", http.counters().rejectedTotal());
        m.put("quic", quic.counters().rejectedTotal());
        return m;
    }

    public long evidenceSeen() {
        return evidenceSeen.get();
    }
}
