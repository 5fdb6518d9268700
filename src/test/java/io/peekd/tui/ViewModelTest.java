package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.store.Reader;

/**
 * The key semantics without a terminal: each key applied to the model, each query it asks
 * for run on a real database, as the query thread would.
 */
class ViewModelTest {

    @TempDir
    Path dir;
    Reader reader;
    AtomicLong clock;
    ViewModel m;
    int queries;

    @BeforeEach
    void open() throws Exception {
        Path db = dir.resolve("data/peekd.db");
        Instant now = Instant.now();
        ViewDb.write(db, now);
        reader = Reader.open(db);
        clock = new AtomicLong(now.getEpochSecond() + 1);
        m = new ViewModel(Dimension.EXE, TimeRange.ALL, ByteUnits.AUTO, ZoneId.systemDefault(), clock::get);
        settle();
    }

    @AfterEach
    void close() {
        reader.close();
    }

    /** Answers whatever the model asks for, as the screen loop does after each event. */
    private void settle() throws Exception {
        ViewQuery q = m.nextRequest();
        if (q != null) {
            queries++;
            m.accept(reader.read(c -> q.run(c, ps -> { }, Annotator.NONE)));
        }
        assertThat(m.loading()).isFalse();
    }

    private void press(Keys.Op... ops) throws Exception {
        for (Keys.Op op : ops) {
            assertThat(m.apply(op)).isTrue();
            settle();
        }
    }

    @Test
    void filterDrillsDownToTheNextTabAndBackspaceComesBack() throws Exception {
        press(Keys.Op.DOWN);
        assertThat(m.selected().label()).isEqualTo("/usr/bin/curl");
        press(Keys.Op.FILTER);
        assertThat(m.tab()).isEqualTo(Dimension.NAME);
        assertThat(m.filters()).singleElement().satisfies(f -> {
            assertThat(f.dim()).isEqualTo(Dimension.EXE);
            assertThat(f.key()).isEqualTo("/usr/bin/curl");
            assertThat(f.exclude()).isFalse();
        });
        assertThat(m.shown().entries()).singleElement().extracting(Entry::label).isEqualTo("curl");
        assertThat(m.shown().sent()).isEqualTo(1500);
        // Jump to the user tab and filter there: the next tab (lport) shows curl's two ports.
        for (int i = 0; i < 7; i++) {
            press(Keys.Op.TAB_NEXT);
        }
        assertThat(m.tab()).isEqualTo(Dimension.USER);
        press(Keys.Op.FILTER);
        assertThat(m.tab()).isEqualTo(Dimension.LPORT);
        assertThat(m.shown().entries()).extracting(Entry::key).containsExactly(40000L, 40001L);
        // Remove the user filter: back on the user tab, on alice.
        press(Keys.Op.UNFILTER);
        assertThat(m.tab()).isEqualTo(Dimension.USER);
        assertThat(m.selected().label()).isEqualTo("alice (1000)");
        press(Keys.Op.UNFILTER);
        assertThat(m.tab()).isEqualTo(Dimension.EXE);
        assertThat(m.selected().label()).isEqualTo("/usr/bin/curl");
        assertThat(m.cursor()).isEqualTo(1);
        press(Keys.Op.UNFILTER);
        assertThat(m.message()).isEqualTo("no filter to remove");
    }

    @Test
    void drillDownSkipsTabsAlreadyPinnedButNotTime() throws Exception {
        press(Keys.Op.FILTER); // exe = wget -> name
        press(Keys.Op.TAB_PREV); // back to exe: one row left
        assertThat(m.tab()).isEqualTo(Dimension.EXE);
        press(Keys.Op.TAB_PREV); // time
        assertThat(m.tab()).isEqualTo(Dimension.TIME);
        press(Keys.Op.FILTER); // time = a day -> wraps to exe, which is pinned, so name
        assertThat(m.tab()).isEqualTo(Dimension.NAME);
        press(Keys.Op.TAB_PREV, Keys.Op.TAB_PREV);
        assertThat(m.tab()).isEqualTo(Dimension.TIME);
        long width = m.shown().bucket();
        press(Keys.Op.FILTER);
        // Time again: a finer split of the day.
        assertThat(m.filters()).hasSize(3);
        press(Keys.Op.TAB_PREV, Keys.Op.TAB_PREV);
        assertThat(m.tab()).isEqualTo(Dimension.TIME);
        assertThat(m.shown().bucket()).isLessThan(width);
    }

    @Test
    void excludeStaysOnTheTab() throws Exception {
        press(Keys.Op.EXCLUDE);
        assertThat(m.tab()).isEqualTo(Dimension.EXE);
        assertThat(m.shown().entries()).extracting(Entry::label).doesNotContain("/usr/bin/wget").hasSize(3);
        assertThat(m.filters()).singleElement().extracting(Filter::exclude).isEqualTo(true);
        assertThat(m.filters().getFirst().describe(true)).isEqualTo("exe \u2260 /usr/bin/wget");
        assertThat(m.filters().getFirst().describe(false)).isEqualTo("exe != /usr/bin/wget");
    }

    @Test
    void rangesHistoryAndUnits() throws Exception {
        press(Keys.Op.OLDER);
        assertThat(m.message()).contains("press t first");
        assertThat(m.offset()).isZero();
        press(Keys.Op.RANGE_NEXT);
        assertThat(m.range()).isEqualTo(TimeRange.MINUTE);
        assertThat(m.shown().entries()).hasSize(2);
        press(Keys.Op.RANGE_PREV, Keys.Op.RANGE_PREV);
        assertThat(m.range()).isEqualTo(TimeRange.YEAR);
        press(Keys.Op.RANGE_PREV, Keys.Op.RANGE_PREV, Keys.Op.RANGE_PREV, Keys.Op.RANGE_PREV, Keys.Op.RANGE_PREV);
        assertThat(m.range()).isEqualTo(TimeRange.HOUR);
        press(Keys.Op.OLDER);
        assertThat(m.offset()).isEqualTo(1);
        assertThat(m.shown().entries()).singleElement().extracting(Entry::sent).isEqualTo(500L);
        assertThat(Screen.rangeText(m)).startsWith("1 hour, 1 back: ");
        press(Keys.Op.NEWER);
        assertThat(m.offset()).isZero();
        press(Keys.Op.NEWER);
        assertThat(m.message()).contains("already showing the present");
        press(Keys.Op.UNITS_NEXT);
        assertThat(m.units()).isEqualTo(ByteUnits.AUTO_SI);
        press(Keys.Op.UNITS_PREV, Keys.Op.UNITS_PREV);
        assertThat(m.units()).isEqualTo(ByteUnits.GB);
    }

    @Test
    void tabsAlreadySeenComeFromTheCacheUntilARefresh() throws Exception {
        int before = queries;
        press(Keys.Op.TAB_NEXT, Keys.Op.TAB_PREV);
        assertThat(queries).isEqualTo(before + 1);
        press(Keys.Op.TAB_NEXT);
        assertThat(queries).isEqualTo(before + 1);
        // r asks again, anchored at the new "now", and keeps the cursor's row.
        press(Keys.Op.DOWN);
        Object key = m.selected().key();
        clock.addAndGet(30);
        press(Keys.Op.REFRESH);
        assertThat(queries).isEqualTo(before + 2);
        assertThat(m.selected().key()).isEqualTo(key);
    }

    @Test
    void movementIsClampedAndPagesFollowTheScreen() throws Exception {
        press(Keys.Op.UP);
        assertThat(m.cursor()).isZero();
        press(Keys.Op.END);
        assertThat(m.cursor()).isEqualTo(3);
        press(Keys.Op.DOWN);
        assertThat(m.cursor()).isEqualTo(3);
        m.setVisibleRows(2);
        assertThat(m.top()).isEqualTo(2);
        press(Keys.Op.PAGE_UP);
        assertThat(m.cursor()).isEqualTo(2);
        press(Keys.Op.HOME);
        assertThat(m.cursor()).isZero();
        assertThat(m.top()).isZero();
        press(Keys.Op.HELP);
        assertThat(m.help()).isTrue();
        // Any key leaves the help, doing nothing else.
        press(Keys.Op.END);
        assertThat(m.help()).isFalse();
        assertThat(m.cursor()).isZero();
        assertThat(m.apply(Keys.Op.QUIT)).isFalse();
    }

    @Test
    void aFailedQueryIsShownAndTheNextOneClearsIt() throws Exception {
        press(Keys.Op.TAB_NEXT);
        ViewQuery q = m.wanted();
        // As if the query thread had failed on the name tab.
        m.refresh();
        ViewQuery again = m.nextRequest();
        m.failed(again, "query failed: database is locked");
        assertThat(m.error()).contains("locked");
        assertThat(m.loading()).isFalse();
        assertThat(q.dim()).isEqualTo(Dimension.NAME);
        press(Keys.Op.REFRESH);
        assertThat(m.error()).isNull();
        assertThat(m.shown().entries()).hasSize(4);
    }
}
