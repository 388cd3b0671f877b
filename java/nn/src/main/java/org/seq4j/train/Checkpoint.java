// A saved model: one .npz file holding every parameter under the book's name (NumPy format, readable by
// numpy.load) and, as the entry model.properties, what to rebuild (task, model kind, sizes, vocabulary,
// epoch...). One file is written to a temporary name and renamed, so parameters and description change
// together and an interrupted save leaves the previous checkpoint as it was. A run folder holds model.npz
// (the last epoch) and best.npz (the best epoch so far); runs of older seq4j versions kept the description
// in a file model.properties beside model.npz, which is still read. numpy's own round trip,
// np.savez(f, **dict(np.load(g))), stores the description back as model.properties.npy, a 0-d bytes array:
// that is read as the same checkpoint. write records, inside the description, a SHA-256 digest of its model-defining
// values (description_sha256, see DIGESTED); meta refuses a description whose values no longer match it: a
// hand-edited answer_length, vocabulary, reverse or task was believed and answered plausible wrong answers. A
// description without the digest (a seq4j from before it) is taken as it is.
package org.seq4j.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeSet;
import org.seq4j.io.Npz;
import org.seq4j.io.NpzFile;
import org.seq4j.io.NpzFormatException;
import org.seq4j.io.NpzWriter;
import org.seq4j.io.NpyArray;
import org.seq4j.io.RegularFile;
import org.seq4j.layers.Parameter;
import org.seq4j.models.Model;
import org.seq4j.tensor.Tensor;

/**
 * A saved model: one .npz file holding every parameter under the book's name (readable by numpy.load) and, as
 * the entry model.properties, what to rebuild (task, model kind, sizes, vocabulary, epoch...). Written to a
 * temporary name and renamed, so an interrupted save leaves the previous checkpoint as it was.
 */
public final class Checkpoint {
    /** The last epoch's checkpoint in a run folder. */
    public static final String WEIGHTS = "model.npz";
    /** The best epoch's checkpoint in a run folder (by the run's evaluation metric). */
    public static final String BEST = "best.npz";
    /**
     * The description: an entry of each .npz (np.load(f)["model.properties"] gives its bytes, or, once numpy has
     * saved the file again, a 0-d bytes array; bytes(...) of either is the text).
     */
    public static final String META = "model.properties";
    // a description is a few hundred bytes; more is not a seq4j checkpoint
    private static final int MAX_META_BYTES = 1 << 20;

    /**
     * The description's key of its digest: the SHA-256 (lower-case hex) of its {@link #DIGESTED} keys, as write
     * computes it. meta refuses a description whose values no longer match it.
     */
    public static final String DIGEST = "description_sha256";
    /**
     * The description's key that names, for each {@link #DIGESTED} key it holds, the first 8 hex digits of the
     * SHA-256 of that key's line alone ("answer_length:0a1b2c3d,cell:..."): what lets meta name the key that was
     * edited. It decides nothing: the description is refused or taken by {@link #DIGEST} alone.
     */
    public static final String DIGEST_BY_KEY = "description_sha256_by_key";

    /**
     * The keys of a description that the digest covers: each changes how the weights are rebuilt or read, or how
     * questions and answers are encoded, or is a fact of the training run that eval holds a file to; no reader has
     * cause to change one, and an edit of one is believed (the weights cannot tell). Sorted, as the canonical form
     * lists them. A key of the list that a description lacks is left out of the canonical form, so adding or
     * removing one is an edit too. Changing this list changes the digest of every description: a later list needs
     * a digest under another key, with this one still checked over this list.
     */
    public static final List<String> DIGESTED = List.of(
            // the expected answer's characters ('_' included): how many steps the decoder runs and where the
            // answer is cut (answer_length=8 answered "1993-09" for "1993-09-02")
            "answer_length",
            // ModelSpec: whether an attention encoder is bidirectional (its parameters and how they are used)
            "bidirectional",
            // ModelSpec: LSTM or GRU, which parameters are rebuilt
            "cell",
            // the fingerprint of the training rows: what eval holds the training file to before it scores its
            // held-out part; a fact of the run, no user's setting (the path, "data", is left out)
            "data_fingerprint",
            // ModelSpec: BetterRnnlm's dropout ratio, part of the model trained (off at inference)
            "dropout",
            // ModelSpec: the hidden size H, the parameters' shapes
            "hidden",
            // ModelSpec: the model kind (baseline, peeky, attention, rnnlm...), which model is rebuilt
            "model",
            // whether the training questions held spaces other than their padding: which questions are refused
            "question_inner_spaces",
            // the questions' padded width: how each question is padded before it is encoded
            "question_width",
            // ModelSpec: whether questions are fed reversed (reverse=false on a reversed model answered wrong dates)
            "reverse",
            // ModelSpec: the seed the weights were initialised from; a fact of the run that the spec carries
            "seed",
            // the id of '_', the decoder's first input
            "start_id",
            // ModelSpec: addition, date, waves or lm (task=addition loaded a date model as an addition model)
            "task",
            // a language model's run: the streams and steps it validated with, which eval repeats to reproduce
            // the valid perplexity the run recorded
            "valid_batch",
            "valid_time",
            // ModelSpec: the vocabulary size V, the parameters' shapes
            "vocab",
            // a seq2seq model's characters in id order: two characters swapped answered "1923-09-02"
            "vocabulary",
            // a language model's run: the fingerprint of the vocabulary.txt its word ids are words of
            "vocabulary_fingerprint",
            // ModelSpec: the word vector size D, the parameters' shapes
            "wordvec");

    /**
     * The keys seq4j writes that the digest leaves out. "data": the training file's path, which a user may change
     * when the data or the run folder moves (eval holds the file there to data_fingerprint, which is digested);
     * "seq4j": the version that wrote the file, provenance that nothing reads back; "epoch", "metric",
     * "metric_value": bookkeeping the run rewrites at every save, only shown. The digest's own keys are not
     * digested either. A key of neither list (a note a program adds) is not digested: seq4j does not read it.
     * There are no precision keys: the inference precision is an option of eval and generate, not the file's.
     */
    public static final Set<String> NOT_DIGESTED = Set.of("data", "seq4j", "epoch", "metric", "metric_value", DIGEST,
            DIGEST_BY_KEY);

    // the first line of the canonical form: a later form names itself otherwise
    private static final String CANONICAL_FORM = "seq4j description digest 1\n";

    /** Which checkpoint of a run folder to use. */
    public enum Pick {
        /** The best epoch so far (best.npz). */
        BEST,
        /** The last epoch (model.npz). */
        LAST;

        /**
         * The file of this pick in a run folder.
         *
         * @return best.npz or model.npz
         */
        public String fileName() {
            return this == BEST ? Checkpoint.BEST : WEIGHTS;
        }

        /**
         * The pick as the command line spells it.
         *
         * @return "best" or "last"
         */
        public String lower() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private Checkpoint() {
    }

    /**
     * Writes dir/model.npz (creating dir): the parameters and the description, in one atomic rename.
     *
     * @param dir   the run folder
     * @param model the model whose parameters are saved
     * @param meta  the description, stored as the entry model.properties
     * @throws NpzFormatException if a weight is NaN or infinite, with the message {@link #load} would give, the
     *                            description is more than the 1 MiB load reads, or a parameter is named
     *                            model.properties (nothing is written; a previous checkpoint there stays as it was)
     * @throws IOException if the file cannot be written (a previous checkpoint there stays as it was)
     * @throws IllegalArgumentException as {@link #write}: a parameter's name that cannot be an .npz entry, or a key or
     *                                  value of the description that is not a String (nothing is written)
     * @throws NullPointerException if dir, model or meta is null (the message says which)
     */
    public static void save(Path dir, Model model, Properties meta) throws IOException {
        nonNull("Checkpoint.save", "dir", dir);
        nonNull("Checkpoint.save", "model", model);
        nonNull("Checkpoint.save", "meta", meta);
        try {
            Files.createDirectories(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {   // named the path with no reason
            throw new java.nio.file.FileAlreadyExistsException(dir.toString(), null, "a file of that name is in the "
                    + "way: Checkpoint.save writes " + WEIGHTS + " into a folder of that name");
        }
        write(dir.resolve(WEIGHTS), model, meta);
    }

    /**
     * Writes the .npz {@code file} (its folder must exist) atomically: the parameters, then the description, to which
     * the digest of its model-defining values is added ({@link #DIGEST}, {@link #DIGEST_BY_KEY}: computed here, over
     * any the description gives; {@code meta} itself is not changed). The description is every property
     * {@code meta.getProperty} reads, its defaults' included.
     *
     * @param file  the .npz file
     * @param model the model whose parameters are saved
     * @param meta  the description, stored as the entry model.properties
     * @throws NpzFormatException if a weight is NaN or infinite, with the message {@link #load} would give, the
     *                            description is more than the 1 MiB load reads, or a parameter is named
     *                            model.properties (nothing is written; a previous checkpoint there stays as it was)
     * @throws IOException if the file cannot be written (a previous checkpoint there stays as it was)
     * @throws IllegalArgumentException if a parameter's name cannot be an .npz entry, or the description holds a key or
     *                                  value that is not a String, in meta or its defaults (nothing is written)
     * @throws NullPointerException if file, model or meta is null (the message says which)
     */
    public static void write(Path file, Model model, Properties meta) throws IOException {
        nonNull("Checkpoint.write", "file", file);
        nonNull("Checkpoint.write", "model", model);
        nonNull("Checkpoint.write", "meta", meta);
        Map<String, float[]> values = model.store().copyOutAll();
        // checked before the file is opened: a diverged model's NaN were written, over the good checkpoint, into a
        // file that load then refused
        List<Parameter> params = model.parameters();
        NpyArray[] arrays = new NpyArray[params.size()];
        for (int i = 0; i < arrays.length; i++) {
            Parameter p = params.get(i);
            if (p.name().equals(META)) {   // said "entry 'model.properties' is added twice" after opening the file
                throw new NpzFormatException(file, META, "that name is the description's entry, so no parameter can "
                        + "have it; not written (the file there is left as it was)");
            }
            float[] v = values.get(p.name());
            if (v == null) {   // not the store's: NpyArray.of below refuses it, as it always did
                continue;
            }
            arrays[i] = NpyArray.of(v, p.value().shape());
            String problem = NpzFile.nonFinite(arrays[i]);
            if (problem != null) {
                throw new NpzFormatException(file, p.name(), problem + "; not written, as load refuses it (the file"
                        + " there is left as it was)");
            }
        }
        // what getProperty reads, defaults included: putAll copied only meta's own entries, so the keys of a
        // new Properties(defaults) were left out of the checkpoint without a word
        Properties stored = new Properties();
        try {
            // propertyNames throws ClassCastException for a key that is no String, in meta or its defaults
            for (var names = meta.propertyNames(); names.hasMoreElements(); ) {
                String key = (String) names.nextElement();
                Object own = meta.get(key);
                String value = meta.getProperty(key);   // null where the value (in meta or its defaults) is no String
                if (value == null || (own != null && !(own instanceof String))) {
                    throw new ClassCastException("the value of '" + key + "' is " + (own != null
                            ? "a " + own.getClass().getName() : "a default that is no String"));
                }
                stored.setProperty(key, value);
            }
        } catch (ClassCastException e) {   // Properties' own word for a put(key, 5): a bare ClassCastException
            throw new IllegalArgumentException("Checkpoint.write: the description holds a key or value that is not a "
                    + "String (" + e.getMessage() + "); expected String properties (setProperty); not written (the file"
                    + " there is left as it was)", e);
        }
        stored.remove(DIGEST);
        stored.remove(DIGEST_BY_KEY);
        stored.setProperty(DIGEST, digest(stored));
        stored.setProperty(DIGEST_BY_KEY, digestByKey(stored));
        ByteArrayOutputStream description = new ByteArrayOutputStream();
        stored.store(description, "seq4j checkpoint: the model's description; its parameters are the arrays of this "
                + ".npz");
        if (description.size() > MAX_META_BYTES) {   // load reads no more: it was written over a good checkpoint
            throw new NpzFormatException(file, null, "its description (" + META + ") would be " + description.size()
                    + " bytes, more than the " + MAX_META_BYTES + " load reads; not written (the file there is left as it"
                    + " was)");
        }
        try (NpzWriter w = NpzWriter.create(file)) {
            for (int i = 0; i < arrays.length; i++) {
                Parameter p = params.get(i);
                w.add(p.name(), arrays[i] != null ? arrays[i] : NpyArray.of(values.get(p.name()), p.value().shape()));
            }
            w.addEntry(META, description.toByteArray());
            w.commit();
        }
    }

    /**
     * The .npz file that {@code checkpoint} names: a file as it is; in a run folder best.npz for BEST, model.npz
     * for LAST, and for null best.npz where there is one (runs of older versions have only model.npz).
     *
     * @param checkpoint a .npz file or a run folder
     * @param pick       BEST, LAST, or null for the best there is
     * @return the .npz file
     * @throws java.nio.file.NoSuchFileException if there is no such checkpoint
     * @throws CheckpointException if the .npz is a folder, a FIFO, a socket or a device
     * @throws IOException if the folder cannot be read
     */
    public static Path file(Path checkpoint, Pick pick) throws IOException {
        nonNull("Checkpoint.file", "checkpoint", checkpoint);   // pick may be null: the best there is
        if (!Files.isDirectory(checkpoint)) {
            if (!Files.exists(checkpoint)) {
                throw new NoSuchFileException(checkpoint.toString(), null, RegularFile.missing(checkpoint,
                        "no such checkpoint (a run folder of seq4j train, or a .npz in one)"));
            }
            String refused = RegularFile.refusal(checkpoint, "a run folder of seq4j train, or a .npz in one");
            if (refused != null) { // a FIFO: reading it would block for ever
                throw new CheckpointException(checkpoint, refused);
            }
            return checkpoint;
        }
        Path best = checkpoint.resolve(BEST);
        if (pick == null && Files.isSymbolicLink(best) && !Files.exists(best)) {   // it fell back to model.npz unsaid
            throw new NoSuchFileException(best.toString(), null, "a link to a missing file; the best checkpoint is "
                    + "gone (ask for the last one by its file, " + checkpoint.resolve(WEIGHTS) + ")");
        }
        Path file = checkpoint.resolve((pick == null && Files.exists(best) ? Pick.BEST
                : pick == null ? Pick.LAST : pick).fileName());
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no checkpoint here (seq4j "
                    + "train writes " + WEIGHTS + " and " + BEST + " into its run folder)"));
        }
        // a folder, read as a run folder in turn, would be reported as .../model.npz/model.npz; a FIFO would block
        String refused = RegularFile.refusal(file, "the .npz file that seq4j train writes");
        if (refused != null) {
            throw new CheckpointException(file, refused);
        }
        return file;
    }

    /**
     * The description of a checkpoint (a .npz file, or a run folder's model.npz), held to the digest that write
     * recorded in it: a description whose model-defining values ({@link #DIGESTED}) no longer match it is refused.
     * One without a digest (written before seq4j recorded one) is taken as it is.
     *
     * @param checkpoint a .npz file or a run folder
     * @return the properties, without the digest's own keys (what write was given)
     * @throws CheckpointException if it has no description, a malformed one, one that gives a key twice, or one
     *         edited since it was written (its values no longer match its digest), naming the keys
     * @throws NpzFormatException if the description is in no form seq4j reads, or in two (see Npz.text), or the file
     *         is not a regular file (a FIFO, say)
     * @throws IOException if the file is missing or unreadable
     */
    public static Properties meta(Path checkpoint) throws IOException {
        nonNull("Checkpoint.meta", "checkpoint", checkpoint);
        Path file = Files.isDirectory(checkpoint) ? checkpoint.resolve(WEIGHTS) : checkpoint;
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no checkpoint here"));
        }
        String text = embeddedMeta(file);
        Path source = file;
        if (text == null) {
            Path beside = file.toAbsolutePath().resolveSibling(META); // a run of an older seq4j
            if (!Files.isRegularFile(beside)) {
                throw new CheckpointException(file, "holds no " + META + " entry and has no " + META
                        + " beside it: not a checkpoint of seq4j train");
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(beside)) { // capped as the embedded description is
                bytes = in.readNBytes(MAX_META_BYTES + 1);
            }
            if (bytes.length > MAX_META_BYTES) {
                throw new CheckpointException(beside, "holds more than the " + MAX_META_BYTES + " bytes read of it; a "
                        + "checkpoint's description is a few hundred bytes");
            }
            text = new String(bytes, StandardCharsets.ISO_8859_1);
            source = beside;
        }
        // a key given twice (reverse=true, then reverse=false) took the last without a word: refused, as no seq4j
        // writes one (load calls put once a key; the copy returned is a plain Properties that setProperty may change)
        String[] twice = {null};
        Properties read = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                if (twice[0] == null && containsKey(key)) {
                    twice[0] = key.toString();
                }
                return super.put(key, value);
            }
        };
        try (Reader in = new StringReader(text)) { // Latin-1 text read as chars: as Properties reads a byte stream
            read.load(in);
        } catch (IllegalArgumentException e) { // a malformed backslash-u escape
            throw new CheckpointException(file, "its " + META + " is malformed (" + e.getMessage() + ")", e);
        }
        if (twice[0] != null) {
            throw new CheckpointException(file, "its " + META + " gives '" + twice[0] + "' twice; expected each key "
                    + "once");
        }
        Properties p = new Properties();
        p.putAll(read);
        verify(source, p);
        p.remove(DIGEST);
        p.remove(DIGEST_BY_KEY);
        return p;
    }

    /**
     * Refuses a description whose digest does not match its values (see DIGESTED), naming the keys whose own short
     * digests in DIGEST_BY_KEY differ; one with neither key (a seq4j before the digest) is taken as it is.
     */
    private static void verify(Path file, Properties p) throws CheckpointException {
        String recorded = p.getProperty(DIGEST), byKey = p.getProperty(DIGEST_BY_KEY);
        if (recorded == null && byKey == null) {
            return;
        }
        if (recorded != null && recorded.equals(digest(p))) {
            return;
        }
        String what;
        if (recorded == null) {
            what = DIGEST + " was removed";
        } else {
            List<String> edited = editedKeys(p, byKey);
            what = edited == null ? "its values no longer match its digest"
                    : edited.isEmpty() ? DIGEST + " itself no longer matches its values"
                    : String.join(", ", edited) + (edited.size() == 1 ? " no longer matches" : " no longer match")
                    + " its digest";
        }
        throw new CheckpointException(file, "its description was edited after seq4j wrote it (" + what + "); seq4j "
                + "cannot tell which values the weights were trained with");
    }

    /**
     * The DIGESTED keys whose value, presence or absence differs from what {@code byKey} recorded, in the list's
     * order; null where byKey is missing or not in the form write gives it.
     */
    private static List<String> editedKeys(Properties p, String byKey) {
        if (byKey == null) {
            return null;
        }
        Map<String, String> recorded = new HashMap<>();
        for (String item : byKey.isEmpty() ? new String[0] : byKey.split(",", -1)) {   // "": none of the keys
            int colon = item.indexOf(':');
            if (colon < 0 || !DIGESTED.contains(item.substring(0, colon))
                    || recorded.put(item.substring(0, colon), item.substring(colon + 1)) != null) {
                return null;
            }
        }
        List<String> edited = new ArrayList<>();
        for (String key : DIGESTED) {
            String now = p.get(key) instanceof String v ? shortDigest(key, v) : null;
            if (!java.util.Objects.equals(now, recorded.get(key))) {
                edited.add(key);
            }
        }
        return edited;
    }

    /**
     * The SHA-256 (lower-case hex) of the canonical form of {@code p}'s DIGESTED keys: a first line naming the form,
     * then one line "key=value\n" for each key p holds, in DIGESTED's (sorted) order, in ASCII (so in UTF-8) with
     * each backslash written as two and each character outside ' ' to '~' as backslash-u and its 4 hex digits (UTF-16
     * units, so a lone surrogate too): a line break or '=' in a value cannot make two descriptions one form.
     */
    private static String digest(Properties p) {
        MessageDigest sha = sha256();
        sha.update(CANONICAL_FORM.getBytes(StandardCharsets.US_ASCII));
        for (String key : DIGESTED) {
            if (p.get(key) instanceof String v) {   // Properties.get: the entries written, not defaults
                sha.update(line(key, v));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** DIGEST_BY_KEY's value for {@code p}: "key:8 hex digits" for each DIGESTED key p holds, comma-separated. */
    private static String digestByKey(Properties p) {
        StringBuilder b = new StringBuilder();
        for (String key : DIGESTED) {
            if (p.get(key) instanceof String v) {
                b.append(b.isEmpty() ? "" : ",").append(key).append(':').append(shortDigest(key, v));
            }
        }
        return b.toString();
    }

    private static String shortDigest(String key, String value) {
        return HexFormat.of().formatHex(sha256().digest(line(key, value)), 0, 4);
    }

    /** One line of the canonical form: key=value, escaped as digest says, and '\n'. */
    private static byte[] line(String key, String value) {
        StringBuilder b = new StringBuilder(key.length() + value.length() + 2).append(key).append('=');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                b.append("\\\\");
            } else if (c < ' ' || c > '~') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Whether {@code file} carries a description, as every checkpoint of seq4j train does: the entry model.properties
     * (or model.properties.npy, as numpy saves it back), or, for a run of an older version, a file model.properties beside
     * it. A .npz of numpy's own (np.savez) has none: it is not a checkpoint of seq4j train, whatever its name.
     *
     * @param file a .npz file
     * @return true if it carries one (which {@link #meta} may still find malformed)
     * @throws IOException if the file cannot be read as a .npz (not a zip archive, a truncated one, a corrupt entry)
     */
    public static boolean isDescribed(Path file) throws IOException {
        nonNull("Checkpoint.isDescribed", "file", file);
        return embeddedMeta(file) != null || Files.isRegularFile(file.toAbsolutePath().resolveSibling(META));
    }

    /**
     * The description inside {@code file}, or null if it holds none: the raw entry model.properties as seq4j
     * writes it, or model.properties.npy as numpy writes it back (np.savez(f, **dict(np.load(g))) stores the
     * bytes np.load gave as a 0-d {@code |S} array; a str value is stored as {@code <U}). See Npz.text: any other
     * form, or two descriptions in one archive, is an error, not a pick.
     */
    private static String embeddedMeta(Path file) throws IOException {
        return Npz.text(file, META, MAX_META_BYTES);
    }

    /**
     * Loads a checkpoint (a .npz file, or a run folder's model.npz) into the model: every parameter must be
     * there with its exact shape, and the file must hold no other array (checked from the arrays' headers before any
     * data is read: see requireShapes); values must be finite. A description it holds is not read here (see meta),
     * but must be one: as model.properties, or as numpy saves it back, model.properties.npy holding one string.
     *
     * @param checkpoint a .npz file or a run folder
     * @param model      the model to overwrite, built with the checkpoint's sizes
     * @throws NpzFormatException naming the array and the file if one is missing, extra, misshapen or not finite
     * @throws IOException if the file cannot be read
     */
    public static void load(Path checkpoint, Model model) throws IOException {
        nonNull("Checkpoint.load", "checkpoint", checkpoint);
        nonNull("Checkpoint.load", "model", model);
        Path path = Files.isDirectory(checkpoint) ? checkpoint.resolve(WEIGHTS) : checkpoint;
        embeddedMeta(path); // a description numpy saved back is not an array of the model, but must be one
        SequencedMap<String, int[]> shapes = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            shapes.put(p.name(), p.value().shape());
        }
        // names and shapes from the headers first: a file of another model is refused before its data is read
        requireShapes(path, shapes, null);
        NpzFile file = Npz.load(path, Set.of(META));
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            file.requireFinite(p.name());
            values.put(p.name(), file.floats(p.name(), p.value().shape())); // and float32 or float64, not integers
        }
        model.store().copyInAll(values);
    }

    /**
     * Checks the arrays of a checkpoint against the parameters a model has, from the arrays' headers alone (see
     * Npz.shapes): every parameter there with its shape, and no other array. Nothing is read or allocated for the
     * data, so a file that does not fit is refused before a model is built for it (ModelSpec.restore).
     *
     * @param checkpoint a .npz file or a run folder
     * @param expected   each parameter's shape by name, in the model's order
     * @param whose      where the expected shapes come from, for the message ("its model.properties implies
     *                   (...)"), or null for the model's own
     * @throws NpzFormatException naming the file and the first parameter that is missing or misshapen, or an array
     *         the model does not have
     * @throws IOException if the file cannot be read
     */
    static void requireShapes(Path checkpoint, SequencedMap<String, int[]> expected, String whose)
            throws IOException {
        Path path = Files.isDirectory(checkpoint) ? checkpoint.resolve(WEIGHTS) : checkpoint;
        SequencedMap<String, int[]> found = Npz.shapes(path, Set.of(META));
        for (var e : expected.entrySet()) {
            int[] has = found.get(e.getKey());
            String shape = Tensor.shapeString(e.getValue());
            if (has == null) {
                throw new NpzFormatException(path, e.getKey(), "the model needs " + e.getKey() + " " + shape
                        + " but the file has only " + NpzFormatException.names(found.keySet()));
            }
            if (!Arrays.equals(has, e.getValue())) {
                throw new NpzFormatException(path, e.getKey(), "shape " + Tensor.shapeString(has)
                        + " does not match the " + (whose == null ? "expected " + shape : shape + " " + whose));
            }
        }
        Set<String> extra = new TreeSet<>(found.keySet());
        extra.removeAll(expected.keySet());
        if (!extra.isEmpty()) {
            throw new NpzFormatException(path, extra.iterator().next(), "the file holds arrays this model does "
                    + "not have: " + NpzFormatException.names(extra) + " (a checkpoint of another model?)");
        }
    }

    /**
     * A required property of the description of {@code file}.
     *
     * @param p    the description
     * @param key  the property
     * @param file the checkpoint, for the message
     * @return its value
     * @throws CheckpointException naming the file and the key if it is missing
     * @throws NullPointerException if p or key is null
     */
    public static String require(Properties p, String key, Path file) throws CheckpointException {
        return require("Checkpoint.require", p, key, file);
    }

    private static String require(String op, Properties p, String key, Path file) throws CheckpointException {
        if (p == null || key == null) {   // a bare NPE from Properties' insides
            throw new NullPointerException(op + ": " + (p == null ? "p" : "key") + " is null");
        }
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new CheckpointException(file, "its " + META + " has no '" + key + "'");
        }
        return v;
    }

    /**
     * A required whole number of at least {@code min} in the description of {@code file}.
     *
     * @param p    the description
     * @param key  the property
     * @param min  the smallest allowed value
     * @param file the checkpoint, for the message
     * @return its value
     * @throws CheckpointException naming the file and the key if it is missing, not a number or below min
     * @throws NullPointerException if p or key is null
     */
    public static int requireInt(Properties p, String key, int min, Path file) throws CheckpointException {
        return requireInt(p, key, min, Integer.MAX_VALUE, file);
    }

    /**
     * {@code s} where it is a whole number in ASCII digits (an optional sign, 0-9), else a NumberFormatException:
     * Integer.parseInt and Long.parseLong also take other scripts' digits ("\u0663" as 3), which no writer of a
     * description puts there.
     */
    static String asciiInteger(String s) {
        int from = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+') ? 1 : 0;
        if (from == s.length()) {
            throw new NumberFormatException(s);
        }
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                throw new NumberFormatException(s);
            }
        }
        return s;
    }

    /**
     * A required whole number from {@code min} to {@code max} in the description of {@code file}.
     *
     * @param p    the description
     * @param key  the property
     * @param min  the smallest allowed value
     * @param max  the largest allowed value
     * @param file the checkpoint, for the message
     * @return its value
     * @throws CheckpointException naming the file and the key if it is missing, not a number or out of range
     * @throws IllegalArgumentException if min is above max
     * @throws NullPointerException if p or key is null
     */
    public static int requireInt(Properties p, String key, int min, int max, Path file) throws CheckpointException {
        String v = require("Checkpoint.requireInt", p, key, file);
        if (min > max) {   // every value was refused, as "expected a whole number from 10 to 1", blaming the file
            throw new IllegalArgumentException("Checkpoint.requireInt: min " + min + " is above max " + max);
        }
        try {
            int n = Integer.parseInt(asciiInteger(v.trim()));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CheckpointException(file, "its " + META + " has " + key + "=" + v + "; expected a whole number "
                + (max == Integer.MAX_VALUE ? ">= " + min : "from " + min + " to " + max));
    }

    /** A NullPointerException naming the call and the argument ("Checkpoint.load: model is null"), as Npz's. */
    private static void nonNull(String op, String name, Object value) {
        if (value == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
    }
}
