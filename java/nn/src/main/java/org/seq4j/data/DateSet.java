// The date set: a date in a human format to its ISO form, "september 27, 1994" -> "1994-09-27".
// Formats and frequencies follow the book's date.txt, measured over its 50,000 lines: each line picks
// one of four patterns with equal chance (counted in the book's file: 11,608 "MMMM d, yyyy",
// 11,427 "MMM d, yyyy", 2,197 "May d, yyyy" that fit both, 12,334 "EEEE, MMMM d, yyyy", 12,434 "M/d/yy")
// and, for the patterns with words, Title case with chance 1/2 (book: 18,865 of 37,566), lower case
// 1/4 (9,474) and UPPER case 1/4 (9,227).
// Dates are uniform over 1970-01-01 .. 2017-07-24, the range of the book's answers. Repeats can happen
// (the book's file has 41,578 distinct lines).
package org.seq4j.data;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

final class DateSet {
    static final int QUESTION_WIDTH = 29; // "Wednesday, September 30, 2009"
    static final int ANSWER_WIDTH = 10; // "2009-09-30"
    static final LocalDate FIRST = LocalDate.of(1970, 1, 1);
    static final LocalDate LAST = LocalDate.of(2017, 7, 24);

    /** The question patterns, each drawn with chance 1/4. */
    enum Format {
        LONG("MMMM d, yyyy"), // August 19, 2003
        SHORT("MMM d, yyyy"), // Aug 19, 2003
        WEEKDAY("EEEE, MMMM d, yyyy"), // Wednesday, February 26, 1997
        NUMERIC("M/d/yy"); // 2/10/93

        final DateTimeFormatter formatter;

        Format(String pattern) {
            this.formatter = DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH);
        }
    }

    /** Letter case of the words: Title 1/2, lower 1/4, UPPER 1/4. */
    enum Case {
        TITLE, LOWER, UPPER;

        static Case draw(SplittableRandom random) {
            int k = random.nextInt(4);
            return k < 2 ? TITLE : k == 2 ? LOWER : UPPER;
        }

        String apply(String s) {
            return switch (this) {
                case TITLE -> s;
                case LOWER -> s.toLowerCase(Locale.ROOT);
                case UPPER -> s.toUpperCase(Locale.ROOT);
            };
        }
    }

    private DateSet() {
    }

    static List<String> lines(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long first = FIRST.toEpochDay();
        long last = LAST.toEpochDay();
        Format[] formats = Format.values();
        List<String> lines = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            LocalDate date = LocalDate.ofEpochDay(random.nextLong(first, last + 1));
            Format format = formats[random.nextInt(formats.length)];
            Case letterCase = Case.draw(random);
            String question = letterCase.apply(format.formatter.format(date));
            lines.add(ToySet.line(question, QUESTION_WIDTH, date.toString(), ANSWER_WIDTH));
        }
        return lines;
    }
}
