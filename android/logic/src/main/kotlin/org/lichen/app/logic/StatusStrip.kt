package org.lichen.app.logic

import org.lichen.PairingStatus
import org.lichen.SyncProgress

/** The strip on top of the chat list: dongle connected · phones nearby · feeds behind. */
data class StatusStrip(
    val dongle: DongleBadge,
    val phonesNearby: Int,
    val feedsBehind: Int,
    val entriesMissing: Long,
) {
    enum class DongleBadge { NONE_PAIRED, CONNECTED, RECONNECTING, FULL, UNKNOWN }

    /** The strip in words, short enough for one line. */
    fun text(): String {
        val d = when (dongle) {
            DongleBadge.NONE_PAIRED -> "no dongle"
            DongleBadge.CONNECTED -> "dongle connected"
            DongleBadge.RECONNECTING -> "dongle reconnecting"
            DongleBadge.FULL -> "dongle full"
            DongleBadge.UNKNOWN -> "dongle ?"
        }
        val p = when (phonesNearby) {
            0 -> "no phones nearby"
            1 -> "1 phone nearby"
            else -> "$phonesNearby phones nearby"
        }
        val f = if (feedsBehind == 0) "all synced" else "$feedsBehind feeds behind"
        return "$d · $p · $f"
    }

    companion object {
        val UNKNOWN = StatusStrip(DongleBadge.UNKNOWN, 0, 0, 0)

        /**
         * From what the bindings report. [dongle] is null when none is paired; phones nearby
         * are the native phone-to-phone links up now (the peripheral sessions count them;
         * the bindings' link list does not tell a phone from another link).
         */
        fun of(dongle: PairingStatus?, sync: SyncProgress?, phonesNearby: Int): StatusStrip {
            val badge = when {
                dongle == null -> DongleBadge.NONE_PAIRED
                dongle.link == null -> DongleBadge.UNKNOWN
                dongle.link!!.dongleFull -> DongleBadge.FULL
                dongle.link!!.connected -> DongleBadge.CONNECTED
                else -> DongleBadge.RECONNECTING
            }
            return StatusStrip(
                dongle = badge,
                phonesNearby = phonesNearby,
                feedsBehind = sync?.behind?.size ?: 0,
                entriesMissing = sync?.entriesMissing?.toLong() ?: 0,
            )
        }
    }
}
