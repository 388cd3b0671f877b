// placeholder until jextract output lands
package org.seq4j.bindings;
