import StatusClient
import Testing

@Suite("Progress text")
struct ProgressTextTests {
    @Test func aBarHasItsWidthAndAPercentage() {
        #expect(ProgressText.bar(0.48, width: 20) == "[=========>          ]  48%")
        #expect(ProgressText.bar(0, width: 4) == "[>   ]   0%")
        #expect(ProgressText.bar(1, width: 4) == "[====] 100%")
        #expect(ProgressText.bar(.nan, width: 4) == "[>   ]   0%")
    }

    @Test func aPercentageIsFourCharactersAndHundredOnlyWhenComplete() {
        #expect(ProgressText.percent(0.05) == "  5%")
        #expect(ProgressText.percent(0.999) == " 99%")
        #expect(ProgressText.percent(1) == "100%")
    }

    @Test func bytesAreInBinaryUnits() {
        #expect(ProgressText.bytes(Int64(512)) == "512 B")
        #expect(ProgressText.bytes(Int64(4096)) == "4.0 KiB")
        #expect(ProgressText.bytes(1.5 * 1024 * 1024 * 1024) == "1.5 GiB")
    }
}
