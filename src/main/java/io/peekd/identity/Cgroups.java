package io.peekd.identity;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads container and systemd-unit identity out of cgroup paths. */
public final class Cgroups {

    private static final String HEX64 = "([0-9a-f]{64})";
    // Matched per path segment. The "-conmon-" monitors of podman and CRI-O do not match
    // the hex id, on purpose: the monitor runs outside the container.
    private static final List<Rule> RULES = List.of(
            new Rule(Pattern.compile("docker-" + HEX64 + "\\.scope"), "docker"),
            new Rule(Pattern.compile("libpod-" + HEX64 + "(?:\\.scope)?"), "podman"),
            new Rule(Pattern.compile("cri-containerd-" + HEX64 + "\\.scope"), "containerd"),
            new Rule(Pattern.compile("nerdctl-" + HEX64 + "\\.scope"), "containerd"),
            new Rule(Pattern.compile("crio-" + HEX64 + "(?:\\.scope)?"), "cri-o"),
            new Rule(Pattern.compile("lxc\\.payload\\.(.+)"), "lxc"),
            new Rule(Pattern.compile("machine-(.+)\\.scope"), "machined")); // systemd-nspawn and libvirt guests
    private static final Pattern BARE_ID = Pattern.compile(HEX64);
    private static final Pattern POD_SYSTEMD = Pattern.compile("kubepods(?:-\\w+)*-pod([0-9a-f_]{36})\\.slice");
    private static final Pattern POD_CGROUPFS = Pattern.compile("pod([0-9a-f-]{36})");
    private static final Pattern UNIT = Pattern.compile(".+\\.(?:service|scope|socket|mount|swap)");
    private static final Pattern ESCAPE = Pattern.compile("\\\\x([0-9a-fA-F]{2})");

    private record Rule(Pattern segment, String runtime) {
    }

    private Cgroups() {
    }

    /**
     * Picks the path that identifies a process from {@code /proc/<pid>/cgroup} text:
     * the unified ({@code 0::}) line, else the {@code name=systemd} line of a hybrid
     * host, else the first v1 controller line. A hierarchy that shows only "/" says
     * nothing, so the next one is tried. Null when the text has no usable line.
     */
    public static String pathOf(String procCgroupText) {
        if (procCgroupText == null) return null;
        String v2 = null, systemd = null, v1 = null;
        for (String line : procCgroupText.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || f[2].isEmpty()) continue;
            if (f[0].equals("0") && f[1].isEmpty()) v2 = f[2];
            else if (f[1].equals("name=systemd")) systemd = f[2];
            else if (v1 == null || v1.equals("/")) v1 = f[2];
        }
        for (String p : new String[] {v2, systemd, v1}) {
            if (p != null && !p.equals("/")) return p;
        }
        return v2 != null ? v2 : systemd != null ? systemd : v1;
    }

    /** Shorthand for {@code parse(pathOf(procCgroupText))}. */
    public static CgroupInfo fromProcText(String procCgroupText) {
        return parse(pathOf(procCgroupText));
    }

    public static CgroupInfo parse(String path) {
        if (path == null) return new CgroupInfo(null, null, null, null, null);
        String[] seg = path.split("/");
        String id = null, runtime = null, unit = null, pod = null;
        for (int i = 0; i < seg.length; i++) {
            String s = seg[i];
            if (s.isEmpty()) continue;
            // Later (deeper) matches win: docker inside LXC is the docker container.
            String[] c = container(seg, i);
            if (c != null) {
                id = c[0];
                runtime = c[1];
            }
            if (UNIT.matcher(s).matches()) unit = s;
            Matcher m = POD_SYSTEMD.matcher(s);
            if (m.matches()) pod = m.group(1).replace('_', '-');
            else if (i > 0 && seg[i - 1].startsWith("kubepods") || i > 1 && seg[i - 2].equals("kubepods")) {
                Matcher f = POD_CGROUPFS.matcher(s);
                if (f.matches()) pod = f.group(1);
            }
        }
        if (pod != null && id == null) runtime = "kubernetes"; // pod-level cgroup: the pod is known, not the container
        return new CgroupInfo(path, id, runtime, unit, pod);
    }

    private static String[] container(String[] seg, int i) {
        String s = seg[i];
        for (Rule r : RULES) {
            Matcher m = r.segment().matcher(s);
            if (m.matches()) return new String[] {unescape(m.group(1)), r.runtime()};
        }
        if (BARE_ID.matcher(s).matches() && i > 0) {
            String parent = seg[i - 1];
            // cgroupfs drivers: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>, /libpod_parent/...
            if (parent.equals("docker")) return new String[] {s, "docker"};
            if (POD_CGROUPFS.matcher(parent).matches() || POD_SYSTEMD.matcher(parent).matches())
                return new String[] {s, "kubernetes"};
        }
        if (i > 0 && seg[i - 1].equals("lxc") && !s.isEmpty()) return new String[] {s, "lxc"}; // LXC < 4: /lxc/<name>
        return null;
    }

    /** systemd escapes unit names ("\x2d" for '-'); show the name people typed. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        return ESCAPE.matcher(s).replaceAll(m -> Matcher.quoteReplacement(
                String.valueOf((char) Integer.parseInt(m.group(1), 16))));
    }
}
