import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Build step (package phase, after shading): rewrites class files older than Java 6 in the
 * jar as Java 8 class files with stack maps.
 *
 * <p>Why: the JDK's AOT cache (and CDS) cannot hold classes of version 49 or older. picocli
 * ships as Java 5 class files, so every command loaded, parsed and verified its ~130 classes
 * from the jar on each start: about 150 ms of a 380 ms cold start. Re-emitted with the
 * JDK's own ClassFile API (which computes the stack maps that version 50+ requires), they
 * go into the AOT cache like the rest. The bytecode itself is unchanged.
 *
 * <p>Usage: {@code java src/build/OldClassFiles.java target/peekd.jar}
 */
public final class OldClassFiles {

    public static void main(String[] args) throws IOException {
        Path jar = Path.of(args[0]);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        Map<String, Long> times = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                entries.put(e.getName(), in.readAllBytes());
                times.put(e.getName(), e.getTime());
            }
        }
        ClassHierarchyResolver fromJar = ClassHierarchyResolver.ofResourceParsing(
                (java.util.function.Function<java.lang.constant.ClassDesc, InputStream>) desc -> {
                    String d = desc.descriptorString();
                    byte[] b = entries.get(d.substring(1, d.length() - 1) + ".class");
                    return b == null ? null : new ByteArrayInputStream(b);
                });
        ClassFile cf = ClassFile.of(
                ClassFile.ClassHierarchyResolverOption.of(fromJar.orElse(ClassHierarchyResolver.defaultResolver())),
                ClassFile.StackMapsOption.GENERATE_STACK_MAPS);
        ClassTransform version = (b, e) -> {
            if (e instanceof ClassFileVersion) b.withVersion(ClassFile.JAVA_8_VERSION, 0);
            else b.with(e);
        };
        ClassTransform rewrite = version.andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL));
        int n = 0;
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            if (!e.getKey().endsWith(".class") || e.getKey().startsWith("META-INF/")) continue;
            ClassModel m = cf.parse(e.getValue());
            if (m.majorVersion() >= ClassFile.JAVA_6_VERSION) continue;
            byte[] out = cf.transformClass(m, rewrite);
            // Refuse to ship a class the JVM's verifier would reject.
            var problems = cf.verify(out);
            if (!problems.isEmpty()) throw new IllegalStateException(e.getKey() + ": " + problems.getFirst());
            e.setValue(out);
            n++;
        }
        if (n == 0) {
            System.out.println("OldClassFiles: no class file older than Java 6 in " + jar);
            return;
        }
        Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp); ZipOutputStream out = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                z.setTime(times.get(e.getKey()));
                out.putNextEntry(z);
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("OldClassFiles: " + n + " class files of Java 5 or older now Java 8 in " + jar);
    }
}
