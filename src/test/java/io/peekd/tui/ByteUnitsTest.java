package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteUnitsTest {

    @Test
    void formats() {
        assertThat(ByteUnits.AUTO.format(1023)).isEqualTo("1023 B");
        assertThat(ByteUnits.AUTO.format(1536)).isEqualTo("1.50 KiB");
        assertThat(ByteUnits.AUTO.format(1_033_243)).isEqualTo("1009 KiB");
        assertThat(ByteUnits.AUTO_SI.format(1_033_243)).isEqualTo("1.03 MB");
        assertThat(ByteUnits.B.format(1_033_243)).isEqualTo("1033243 B");
        assertThat(ByteUnits.KIB.format(1_033_243)).isEqualTo("1009.03 KiB");
        assertThat(ByteUnits.GB.format(2_500_000_000L)).isEqualTo("2.50 GB");
        assertThat(ByteUnits.AUTO.format(Long.MAX_VALUE)).isEqualTo("8.00 EiB");
    }

    @Test
    void cyclesBothWaysAndParses() {
        ByteUnits u = ByteUnits.AUTO;
        for (int i = 0; i < ByteUnits.values().length; i++) {
            assertThat(u.next().previous()).isEqualTo(u);
            u = u.next();
        }
        assertThat(u).isEqualTo(ByteUnits.AUTO);
        assertThat(ByteUnits.parse("KiB")).isEqualTo(ByteUnits.KIB);
        assertThat(ByteUnits.parse("kb")).isEqualTo(ByteUnits.KB);
        assertThat(ByteUnits.parse("mib")).isEqualTo(ByteUnits.MIB);
        assertThatThrownBy(() -> ByteUnits.parse("parsecs")).hasMessageContaining("auto, auto-si, B");
        assertThat(TimeRange.parse("1H")).isEqualTo(TimeRange.HOUR);
        assertThatThrownBy(() -> TimeRange.parse("2h")).hasMessageContaining("all, 1m, 5m");
        assertThat(Dimension.parse("RADDR")).isEqualTo(Dimension.RADDR);
        assertThatThrownBy(() -> Dimension.parse("exes")).hasMessageContaining("exe, name, cmdline");
    }
}
