package org.lichen.app.logic

/**
 * An error's text for the person. The bindings' exceptions carry their sentence in a field
 * (`reason`, `missing`); uniffi's `message` renders the fields as `reason=…`, which is cut.
 */
fun Throwable.forPerson(fallback: String = "something failed"): String {
    val m = message?.trim().orEmpty()
    val cut = Regex("^[a-z_]+=").find(m)?.let { m.substring(it.range.last + 1) } ?: m
    return cut.ifBlank { fallback }
}
