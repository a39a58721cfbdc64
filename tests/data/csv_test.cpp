#include "mmtrain/data/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mmtrain/errors.h"
#include "support/error_message.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

using Fields = std::vector<std::string>;

class CsvTest : public ::testing::Test {
 protected:
  CsvTable read(const std::string& content, char separator = '\t') {
    return read_csv(dir_.write("table.csv", content), separator);
  }

  test::TempDir dir_;
};

TEST_F(CsvTest, ReadsHeaderAndRowsWithTheirLineNumbers) {
  const CsvTable table = read("filepath\ttitle\na.png\ta cat\nb.png\ta dog\n");
  EXPECT_EQ(table.header, (Fields{"filepath", "title"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "a cat"}));
  EXPECT_EQ(table.rows[0].line, 2);
  EXPECT_EQ(table.rows[1].fields, (Fields{"b.png", "a dog"}));
  EXPECT_EQ(table.rows[1].line, 3);
  EXPECT_TRUE(table.bad_rows.empty());
}

TEST_F(CsvTest, ReadsLastRowWithoutTrailingNewline) {
  const CsvTable table = read("filepath\ttitle\na.png\ta cat");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "a cat"}));
}

TEST_F(CsvTest, KeepsEmptyFields) {
  const CsvTable table = read("filepath\ttitle\na.png\t\n");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", ""}));
}

TEST_F(CsvTest, UnquotesQuotedFields) {
  const CsvTable table = read("\"filepath\"\ttitle\n\"a.png\"\t\"a cat\"\n");
  EXPECT_EQ(table.header, (Fields{"filepath", "title"}));
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "a cat"}));
}

TEST_F(CsvTest, SeparatorInsideQuotesIsPartOfTheCaption) {
  const CsvTable table = read("filepath\ttitle\na.png\t\"a cat\tsitting\"\n");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields[1], "a cat\tsitting");
  EXPECT_TRUE(table.bad_rows.empty());
}

TEST_F(CsvTest, DoubledQuotesInsideQuotesAreLiteralQuotes) {
  const CsvTable table =
      read("filepath\ttitle\na.png\t\"the \"\"best\"\" cat\"\nb.png\t\"\"\"\"\n");
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].fields[1], "the \"best\" cat");
  EXPECT_EQ(table.rows[1].fields[1], "\"");
}

TEST_F(CsvTest, QuoteInsideUnquotedFieldIsLiteral) {
  const CsvTable table = read("filepath\ttitle\na.png\ta 12\" record\n");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields[1], "a 12\" record");
}

TEST_F(CsvTest, NewlineInsideQuotesStaysInFieldAndLaterRowsKeepTheirLineNumbers) {
  const CsvTable table =
      read("filepath\ttitle\na.png\t\"line one\nline two\n\nline four\"\nb.png\tdog\n");
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].fields[1], "line one\nline two\n\nline four");
  EXPECT_EQ(table.rows[0].line, 2);
  EXPECT_EQ(table.rows[1].fields, (Fields{"b.png", "dog"}));
  EXPECT_EQ(table.rows[1].line, 6);
}

TEST_F(CsvTest, ColumnGivesIndexOfNamedColumn) {
  const CsvTable table = read("filepath\ttitle\n");
  EXPECT_EQ(table.column("filepath"), 0);
  EXPECT_EQ(table.column("title"), 1);
}

TEST_F(CsvTest, MissingColumnErrorNamesFileColumnAndColumnsFound) {
  const std::string path = dir_.write("captions.tsv", "filepath\tcaption\na.png\tcat\n");
  const CsvTable table = read_csv(path, '\t');
  EXPECT_EQ(test::error_message<DataError>([&] { table.column("title"); }),
            path + ": column 'title' not found; columns are: filepath, caption");
}

TEST_F(CsvTest, BlankAndWhitespaceOnlyLinesAreSkipped) {
  const CsvTable table = read("\n  \n\r\nfilepath\ttitle\n\na.png\tcat\n  \r\n\nb.png\tdog\n\n");
  EXPECT_EQ(table.header, (Fields{"filepath", "title"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].line, 6);
  EXPECT_EQ(table.rows[1].line, 9);
  EXPECT_TRUE(table.bad_rows.empty());
}

// As in pandas: whitespace that includes the separator separates (empty) fields.
TEST_F(CsvTest, WhitespaceLineContainingTheSeparatorIsARow) {
  const CsvTable tsv = read("filepath\ttitle\n \t \n");
  ASSERT_EQ(tsv.rows.size(), 1u);
  EXPECT_EQ(tsv.rows[0].fields, (Fields{" ", " "}));
  const CsvTable csv = read("filepath,title\n \t \na.png,cat\n", ',');
  EXPECT_EQ(csv.rows.size(), 1u);
  EXPECT_TRUE(csv.bad_rows.empty());
}

TEST_F(CsvTest, WrongFieldCountIsABadRowWithItsLineAndReason) {
  const CsvTable table = read("filepath\ttitle\na.png\tcat\textra\nb.png\nc.png\tdog\n");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields[0], "c.png");
  ASSERT_EQ(table.bad_rows.size(), 2u);
  EXPECT_EQ(table.bad_rows[0].line, 2);
  EXPECT_EQ(table.bad_rows[0].reason, "expected 2 fields separated by TAB, found 3");
  EXPECT_EQ(table.bad_rows[1].line, 3);
  EXPECT_EQ(table.bad_rows[1].reason, "expected 2 fields separated by TAB, found 1");
}

TEST_F(CsvTest, UnclosedQuoteAtEndOfFileIsABadRow) {
  const CsvTable table = read("filepath\ttitle\na.png\tcat\nb.png\t\"never closed\nc.png\tdog\n");
  ASSERT_EQ(table.rows.size(), 1u);
  ASSERT_EQ(table.bad_rows.size(), 1u);
  EXPECT_EQ(table.bad_rows[0].line, 3);
  EXPECT_EQ(table.bad_rows[0].reason, "unclosed quote");
}

TEST_F(CsvTest, CrlfLineEndingsAreNotPartOfFields) {
  const CsvTable table = read("filepath\ttitle\r\na.png\tcat\r\nb.png\t\"dog\"\r\n");
  EXPECT_EQ(table.header, (Fields{"filepath", "title"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "cat"}));
  EXPECT_EQ(table.rows[1].fields, (Fields{"b.png", "dog"}));
  EXPECT_EQ(table.rows[1].line, 3);
}

TEST_F(CsvTest, Utf8ByteOrderMarkIsStripped) {
  const CsvTable table = read(
      "\xEF\xBB\xBF"
      "filepath\ttitle\na.png\tcat\n");
  EXPECT_EQ(table.header, (Fields{"filepath", "title"}));
  EXPECT_EQ(table.column("filepath"), 0);
}

TEST_F(CsvTest, CommaSeparatorSplitsFieldsAndIsNamedInReasons) {
  const CsvTable table = read("filepath,title\na.png,\"a cat, sitting\"\nb.png,dog,extra\n", ',');
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "a cat, sitting"}));
  ASSERT_EQ(table.bad_rows.size(), 1u);
  EXPECT_EQ(table.bad_rows[0].reason, "expected 2 fields separated by COMMA, found 3");
}

TEST_F(CsvTest, OtherSeparatorIsNamedInQuotes) {
  const CsvTable table = read("filepath|title\na.png|cat|extra\n", '|');
  ASSERT_EQ(table.bad_rows.size(), 1u);
  EXPECT_EQ(table.bad_rows[0].reason, "expected 2 fields separated by '|', found 3");
}

TEST_F(CsvTest, TabIsDataWhenSeparatorIsComma) {
  const CsvTable table = read("filepath,title\na.png,a\tcat\n", ',');
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields[1], "a\tcat");
}

TEST_F(CsvTest, MissingFileErrorNamesPathAndCause) {
  const std::string path = (dir_.path() / "missing.csv").string();
  EXPECT_EQ(test::error_message<DataError>([&] { read_csv(path, '\t'); }),
            path + ": cannot open: No such file or directory");
}

TEST_F(CsvTest, EmptyOrBlankFileHasNoHeaderRow) {
  for (const std::string content : {"", "\n \n\r\n", "\xEF\xBB\xBF"}) {
    const std::string path = dir_.write("empty.csv", content);
    EXPECT_EQ(test::error_message<DataError>([&] { read_csv(path, '\t'); }), path + ": no header row");
  }
}

TEST_F(CsvTest, ParseCsvReadsTextDirectly) {
  const CsvTable table = parse_csv("filepath\ttitle\na.png\tcat\n", "inline", '\t');
  EXPECT_EQ(table.path, "inline");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Fields{"a.png", "cat"}));
}

}  // namespace
}  // namespace mmtrain
