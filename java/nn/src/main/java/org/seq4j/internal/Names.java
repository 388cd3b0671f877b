// A caller's name (a parameter's, an .npz entry's) quoted in a refusal: NUL and line breaks escaped, so that the
// message stays one line whatever the name holds (a raw \n in one ran a refusal over two lines).
package org.seq4j.internal;

/** Names as refusals quote them (a helper of seq4j-nn, not API). */
public final class Names {
    private Names() {
    }

    /**
     * {@code name} with NUL, line feed and carriage return written as {@code \0}, {@code \n} and {@code \r}.
     *
     * @param name a name as the caller gave it
     * @return the name as a one-line message shows it
     */
    public static String shown(String name) {
        return name.replace("\0", "\\0").replace("\n", "\\n").replace("\r", "\\r");
    }
}
