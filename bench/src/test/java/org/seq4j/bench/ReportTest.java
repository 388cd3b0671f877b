// Report's header lines for the OpenBLAS core, C clone and environment, and its ratios against another run
// (scripts/bench --both-openblas): on made-up rows, no JMH run.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {

    private static Report.Row row(String bench, String mnk, double score, String unit) {
        return new Report.Row(bench, mnk == null ? Map.of() : Map.of("mnk", mnk), score, 0.1, unit, "25", Double.NaN);
    }

    @Test
    void headerNamesTheCoreTheCloneAndTheEnvironmentAfterTheOpenBlasLine() {
        String md = "### s\n\n- command: `c`\n- OpenBLAS: desc\n\n| table |\n";
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("OpenBLAS core", "Haswell");
        facts.put("OpenBLAS config", "OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell");
        facts.put("seq4j C clone", "kernels: x86-64-v3 (AVX2+FMA)");
        facts.put("environment", "OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=(unset), SEQ4J_CPU_ISA=avx2");
        String out = Report.withRuntime(md, "the environment as it is, OpenBLAS core Haswell", facts);
        assertEquals("### s\n\n- command: `c`\n- OpenBLAS: desc\n"
                + "- OpenBLAS variant: the environment as it is, OpenBLAS core Haswell\n"
                + "- OpenBLAS core that ran: Haswell (config: `OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell`)\n"
                + "- seq4j C clone that ran: kernels: x86-64-v3 (AVX2+FMA)\n"
                + "- environment: OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=(unset), SEQ4J_CPU_ISA=avx2\n"
                + "\n| table |\n", out);
        assertFalse(Report.withRuntime(md, null, facts).contains("variant"), "no variant line by default");
    }

    @Test
    void factsNameEveryEnvironmentVariableSetOrNot() {
        String env = WhichOpenBlas.facts().get("environment");
        for (String name : WhichOpenBlas.ENV) {
            String v = System.getenv(name);
            assertTrue(env.contains(name + "=" + (v == null ? "(unset)" : v)), env);
        }
    }

    @Test
    void versusDividesTimesOfTheSameBenchmarkAndParametersOnly() {
        List<Report.Row> here = List.of(row("GemmBench.gemm", "64x64x64", 10, "us/op"),
                row("GemmBench.gemm", "128x128x128", 30, "us/op"), row("T.ops", null, 4, "ops/ms"));
        List<Report.Row> there = List.of(row("GemmBench.gemm", "128x128x128", 20, "us/op"),
                row("GemmBench.gemm", "64x64x64", 40, "us/op"), row("T.ops", null, 2, "ops/ms"));
        String md = Report.versus(here, "the other", there);
        assertTrue(md.contains("| GemmBench.gemm | mnk=64x64x64 | 10.0 us/op | 40.0 us/op | 0.25 |"), md);
        assertTrue(md.contains("| GemmBench.gemm | mnk=128x128x128 | 30.0 us/op | 20.0 us/op | 1.50 |"), md);
        // a throughput: twice the operations per ms is half the time
        assertTrue(md.contains("| T.ops |  | 4.00 ops/ms | 2.00 ops/ms | 0.50 |"), md);
        String none = Report.versus(here, "the other", List.of(row("Other.x", null, 1, "us/op")));
        assertTrue(none.contains("no benchmark ran in both"), none);
    }
}
