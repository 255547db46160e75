# embed.awk - turn schema/NNN_name.sql files into src/store/schema_sql.c (run by make).
# Each file becomes one migration: version NNN, its name, and its SQL as a C string.
BEGIN { n = 0; print "/* Generated from the schema/NNN_name.sql files by schema/embed.awk; do not edit. */"
        print "#include \"config.h\""; print "#include \"store/schema.h\"" }
FNR == 1 {
    if (n > 0) print ";"
    n++
    base = FILENAME; sub(/.*\//, "", base); sub(/\.sql$/, "", base)
    version[n] = base; sub(/_.*/, "", version[n]); version[n] += 0
    name[n] = base
    printf "static const char sql_%d[] =\n", n
}
{
    line = $0
    gsub(/\\/, "\\\\", line); gsub(/"/, "\\\"", line)
    printf "    \"%s\\n\"\n", line
}
END {
    if (n > 0) print ";"
    print "const reel__migration reel__migrations[] = {"
    for (i = 1; i <= n; i++) printf "    {%d, \"%s\", sql_%d},\n", version[i], name[i], i
    print "};"
    printf "const int reel__migration_count = %d;\n", n
}
