package org.lichen.app.logic

import org.lichen.Lichen
import org.lichen.LichenBuilder
import org.lichen.SetupException

/**
 * The app's one root over the real library, in its data directory; [configure] gives the
 * builder the phone's Bluetooth central (or, in tests, the dongle emulator).
 */
class LichenRoots(
    private val dataDir: String,
    private val configure: (LichenBuilder) -> Unit = {},
) : RootOpener {
    private fun builder(): LichenBuilder = LichenBuilder(dataDir).also(configure)

    override suspend fun openExisting(): Lichen? = try {
        builder().open()
    } catch (e: SetupException.NoData) {
        null
    }

    override suspend fun create(): Lichen = builder().create()

    override suspend fun restore(backup: String): Lichen = builder().restoreBackup(backup)
}
