/** A seq4j user's application: needs only seq4j's nn module (core comes with it). */
module org.example.consumer {
    requires org.seq4j.nn;
}
