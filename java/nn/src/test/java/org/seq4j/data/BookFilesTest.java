// The loader on the book's own addition.txt and date.txt, compared with what the book's
// dataset/sequence.py gives (run here with numpy 2.4: load_data(f) then get_vocab()). The files are
// not in this repository: the test reads them from /tmp/book/dataset (or -Dseq4j.book.dataset=<folder>)
// and skips, saying so, where they are absent, as in CI.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BookFilesTest {
    private static Path bookFile(String name) {
        Path file = Path.of(System.getProperty("seq4j.book.dataset", "/tmp/book/dataset"), name);
        assumeTrue(Files.isRegularFile(file), "the book's " + name + " is not at " + file
                + " (it is never copied into the repository; set -Dseq4j.book.dataset to its folder to run this)");
        return file;
    }

    @Test
    void additionLoadsAsTheBooksLoader() throws IOException {
        SequenceDataset d = SequenceLoader.load(bookFile("addition.txt"));
        CharVocabulary v = d.vocabulary();
        // ''.join(id_to_char[i] for i in range(len(id_to_char)))
        assertEquals("16+75 _920384", v.chars());
        assertEquals(13, v.size());
        assertEquals(45_000, d.train().size());
        assertEquals(5_000, d.test().size());
        // x_train[0], t_train[0] (file line 21,922: the first index of the seed-1984 shuffle is 21921)
        assertArrayEquals(new int[] {3, 0, 2, 0, 0, 11, 5}, d.train().x()[0]);
        assertEquals("71+118 ", v.decode(d.train().x()[0]));
        assertArrayEquals(new int[] {6, 0, 11, 7, 5}, d.train().t()[0]);
        assertEquals("_189 ", v.decode(d.train().t()[0]));
        // x_test[0] and t_test[-1]
        assertEquals("77+85  ", v.decode(d.test().x()[0]));
        assertEquals("_704 ", v.decode(d.test().t()[4_999]));
    }

    @Test
    void dateLoadsAsTheBooksLoader() throws IOException {
        SequenceDataset d = SequenceLoader.load(bookFile("date.txt"));
        CharVocabulary v = d.vocabulary();
        assertEquals("septmbr 27,194_-0Aug38/TUESDYPMBR5JN6ailOcoGFynCWdILjHvhVfw", v.chars());
        assertEquals(59, v.size());
        assertEquals(45_000, d.train().size());
        assertEquals(5_000, d.test().size());
        assertEquals(29, d.train().questionLength());
        assertEquals(11, d.train().answerLength());
        assertEquals("2/7/72" + " ".repeat(23), v.decode(d.train().x()[0]));
        assertEquals("_1972-02-07", v.decode(d.train().t()[0]));
        assertEquals("10/15/94" + " ".repeat(21), v.decode(d.test().x()[0]));
        assertEquals("_1971-09-21", v.decode(d.test().t()[4_999]));
        // reversed, as the book's train script does with x[:, ::-1]
        SequenceDataset r = SequenceLoader.load(bookFile("date.txt"), SequenceLoader.Options.book().withReversedQuestions());
        assertEquals(" ".repeat(23) + "27/7/2", v.decode(r.train().x()[0]));
    }

    @Test
    void ourGeneratorsMatchTheBooksDistributions() throws IOException {
        List<String> add = Files.readAllLines(bookFile("addition.txt"));
        assertEquals(ToySetTest.BOOK_ADDITION, ToySetTest.additionDigitCounts(add), "the figures ToySetTest states");
        List<String> date = Files.readAllLines(bookFile("date.txt"));
        assertEquals(ToySetTest.BOOK_DATE, ToySetTest.dateCounts(date), "the figures ToySetTest states");
    }
}
