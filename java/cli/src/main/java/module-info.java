/** The seq4j command line: {@code seq4j train | eval | generate | info}, with progress bars and charts. */
module org.seq4j.cli {
    requires org.seq4j.nn;
    requires info.picocli;
    requires me.tongfei.progressbar;
    requires org.knowm.xchart;
    requires java.desktop;
    requires java.logging;

    opens org.seq4j.cli to info.picocli;
}
