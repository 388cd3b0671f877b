// The code examples a test file marks as shown in a document: the lines between "// ---- as in <doc> ----" and
// "// ---- end ----", their common indent removed, so that the test can check the document shows them as they run.
package org.seq4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

final class DocExamples {
    private DocExamples() {
    }

    /**
     * The marked regions of a test source, in order. Skips the calling test (with the reason) where the source or the
     * document is not there: run from the module's folder in a checkout.
     *
     * @param source the test's source file, relative to java/nn
     * @param doc    the document, relative to java/nn
     * @param name   the document's name in the markers, e.g. "README.md"
     * @return each region's text, lines joined by \n, a text block's opening and closing quote lines dropped
     */
    static List<String> marked(Path source, Path doc, String name) throws IOException {
        assumeTrue(Files.isRegularFile(source) && Files.isRegularFile(doc),
                "run from java/nn in a checkout: the test source and " + name + " are not at " + source.toAbsolutePath()
                        + " and " + doc.toAbsolutePath());
        List<List<String>> regions = new ArrayList<>();
        List<String> current = null;
        for (String line : Files.readAllLines(source)) {
            if (line.contains("// ---- as in " + name)) {
                current = new ArrayList<>();
            } else if (line.contains("// ---- " + "end ----") && current != null) {
                regions.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        List<String> texts = new ArrayList<>();
        for (List<String> region : regions) {
            List<String> lines = !region.isEmpty() && region.getFirst().contains("\"\"\"")
                    ? region.subList(1, region.size() - 1) : region;
            int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                    .min().orElse(0);
            texts.add(String.join("\n", lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList()));
        }
        return texts;
    }
}
